# Shared by scripts/run, scripts/test and scripts/lint: make sure uv and the locked environment exist.
# shellcheck shell=bash

UV_VERSION=0.13.9

ensure_tools() {
  local missing=0
  command -v java >/dev/null || { echo "ruta: 'java' not found: install a Java 17+ runtime (Debian: apt-get install openjdk-17-jre-headless)" >&2; missing=1; }
  command -v mvn >/dev/null || { echo "ruta: 'mvn' not found: install Apache Maven (Debian: apt-get install maven)" >&2; missing=1; }
  command -v go >/dev/null || { echo "ruta: 'go' not found: install Go 1.24 or newer (Debian: apt-get install golang)" >&2; missing=1; }
  return "$missing"
}

ensure_env() {
  if ! command -v uv >/dev/null; then
    echo "ruta: installing uv ${UV_VERSION} with pip" >&2
    python3 -m pip install --quiet "uv==${UV_VERSION}"
  fi
  uv sync --frozen --all-packages --quiet
}

# The dashboard test drives Debian's Chromium (headless); install it when it is missing.
ensure_chromium() {
  command -v chromium >/dev/null && return 0
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "ruta: installing Debian's chromium for the browser tests" >&2
  $sudo apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium >/dev/null
}

# The alert rule tests run Debian's promtool (package prometheus) and amtool
# (prometheus-alertmanager); install them when they are missing.
ensure_promtool() {
  command -v promtool >/dev/null && command -v amtool >/dev/null && return 0
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "ruta: installing Debian's prometheus and prometheus-alertmanager (promtool, amtool)" >&2
  $sudo apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends prometheus prometheus-alertmanager >/dev/null
}
