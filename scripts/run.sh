#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine if needed, builds, and starts Schedy.
# Until the desktop dashboard lands this starts the server on
# http://127.0.0.1:8080/ with a local user, and prints the client config that
# workers use (saved to ~/.schedy/client.json if that file does not exist yet).
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/setup.sh dev

server=build/dev/src/server/schedy-server
email="${SCHEDY_EMAIL:-local@schedy.localhost}"
config="$HOME/.schedy/client.json"

if ! out=$("$server" user add "$email" 2>/dev/null); then
  out=$("$server" user reset-token "$email")
fi
echo "==> Client config for workers (user $email):"
echo "$out"
if [[ ! -e "$config" ]]; then
  mkdir -p "$(dirname "$config")" && chmod 700 "$(dirname "$config")"
  (umask 077 && echo "$out" > "$config")
  echo "==> Saved to $config"
fi
echo "==> Starting schedy-server (Ctrl+C stops it)"
exec "$server" serve "$@"
