#!/usr/bin/env bash
# Makes the secret files docker-compose.yml reads from RUTA_SECRETS_DIR: random passwords, the token
# signing key pair (Ed25519), the field-encryption master key and the blind-index key. Existing
# files are kept (rotating a key is a procedure: docs/security.md). Keep the folder outside the
# repository and back it up apart from the databases: losing master_keys.json loses every
# victim's personal data for good. Usage: bash deploy/make-secrets.sh /etc/ruta/secrets
set -euo pipefail

dir="${1:?usage: make-secrets.sh DIR (e.g. /etc/ruta/secrets)}"
mkdir -p "$dir"
chmod 700 "$dir"
umask 022 # the files are bind-mounted into containers that run as other users; the folder guards them

random_base64() { head -c "$1" /dev/urandom | base64 | tr -d '\n'; }

make() { # make NAME COMMAND...: write the command's output to DIR/NAME unless it exists
  local name="$1"
  shift
  if [ -e "$dir/$name" ]; then
    echo "kept    $dir/$name"
    return
  fi
  "$@" >"$dir/$name.tmp"
  mv "$dir/$name.tmp" "$dir/$name"
  echo "created $dir/$name"
}

command -v openssl >/dev/null || { echo "make-secrets: openssl is needed (Debian: apt-get install openssl)" >&2; exit 1; }

make mongo_root_password random_base64 32
make mongo_app_password random_base64 32
make grafana_admin_password random_base64 24
make jwt_private_key.pem openssl genpkey -algorithm ed25519
make jwt_public_key.pem openssl pkey -in "$dir/jwt_private_key.pem" -pubout
make master_keys.json printf '{"1": "%s"}\n' "$(random_base64 32)"
make blind_index_key random_base64 32
make metrics_token random_base64 32
make audit_signing_key.pem openssl genpkey -algorithm ed25519

for external in alertmanager_smtp_password alertmanager_oncall_token; do
  [ -e "$dir/$external" ] || echo "missing $dir/$external: write it yourself (from the mail server / the on-call service)"
done
