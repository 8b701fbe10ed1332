#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine if needed, builds, and starts the Schedy
# dashboard. With no server configured it runs an embedded local server, so it
# works on first start; File > Worker setup shows how workers connect to it.
#
#   ./scripts/run.sh              the dashboard (extra arguments go to it)
#   ./scripts/run.sh --server     only schedy-server on 127.0.0.1:8080, with a
#                                 local user whose client config is printed
set -euo pipefail
cd "$(dirname "$0")/.."

# Only the program started is built (the tests are scripts/test.sh's), so the
# first window appears as soon as it is.
if [[ "${1:-}" != "--server" ]]; then
  ./scripts/setup.sh dev schedy-dashboard
  exec build/dev/src/app/schedy-dashboard "$@"
fi
shift
./scripts/setup.sh dev schedy-server

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
