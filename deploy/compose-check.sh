#!/usr/bin/env bash
# Validates docker-compose.yml without a Docker engine: `docker compose config -q` (Compose v2
# plugin) when available, else the standalone `docker-compose` (installing Debian's package if
# needed). Usage, from anywhere: bash deploy/compose-check.sh
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

# The compose file requires GRAFANA_ADMIN_PASSWORD; a throwaway value is enough to validate it.
export GRAFANA_ADMIN_PASSWORD="${GRAFANA_ADMIN_PASSWORD:-compose-config-check}"

compose_file=docker-compose.yml

if docker compose version >/dev/null 2>&1; then
    tool="docker compose"
    docker compose -f "$compose_file" config -q
else
    if ! command -v docker-compose >/dev/null 2>&1; then
        echo "docker compose plugin and docker-compose not found; installing Debian's docker-compose" >&2
        sudo=""
        if [ "$(id -u)" -ne 0 ]; then
            sudo="sudo"
        fi
        $sudo apt-get update -qq
        $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker-compose >/dev/null
    fi
    tool="docker-compose $(docker-compose version --short 2>/dev/null || true)"
    docker-compose -f "$compose_file" config -q
fi

echo "$compose_file is valid (checked with ${tool% })"
