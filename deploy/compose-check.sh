#!/usr/bin/env bash
# Validates docker-compose.yml without a Docker engine: `docker compose config -q` (Compose v2
# plugin) when available, else the standalone `docker-compose` (installing Debian's package if
# needed). Usage, from anywhere: bash deploy/compose-check.sh
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

# The compose file requires its secret files and a few addresses; throwaway ones are enough to
# validate it (the secrets made by the same script an operator runs).
if [ -z "${RUTA_SECRETS_DIR:-}" ]; then
    RUTA_SECRETS_DIR="$(mktemp -d)"
    trap 'rm -rf "$RUTA_SECRETS_DIR"' EXIT
    bash deploy/make-secrets.sh "$RUTA_SECRETS_DIR/secrets" >/dev/null
    RUTA_SECRETS_DIR="$RUTA_SECRETS_DIR/secrets"
    touch "$RUTA_SECRETS_DIR/alertmanager_smtp_password" "$RUTA_SECRETS_DIR/alertmanager_oncall_token"
fi
export RUTA_SECRETS_DIR
export RUTA_JWT_ISSUER="${RUTA_JWT_ISSUER:-https://ruta.example.org}"
export RUTA_CERTIFICATE_VERIFY_URL="${RUTA_CERTIFICATE_VERIFY_URL:-https://ruta.example.org/certificates/verify}"

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
