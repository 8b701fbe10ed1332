#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine if needed, builds with warnings as errors
# and runs the whole test suite through ctest. The server tests run twice, on
# SQLite and on PostgreSQL: a throwaway PostgreSQL cluster is started for them
# (installed from Debian's packages when missing) and stopped at the end. If it
# cannot start, the run fails.
#
#   scripts/test.sh [--preset asan] [CTEST ARGS...]
#
# --preset asan builds with AddressSanitizer + UndefinedBehaviorSanitizer and
# runs the core, client and server tests (CMakePresets.json).
set -euo pipefail
cd "$(dirname "$0")/.."

preset=ci
if [[ ${1:-} == --preset ]]; then
  preset=${2:?--preset needs a name}
  shift 2
fi
./scripts/setup.sh "$preset"

# Tests get a private runtime dir and never touch the user's real config.
export XDG_RUNTIME_DIR="$(mktemp -d)"
chmod 0700 "$XDG_RUNTIME_DIR"
export QT_QPA_PLATFORM=offscreen
# Under /tmp: the cluster runs as the postgres user, which must reach it.
pgdir="$(mktemp -d /tmp/schedy-test-pg.XXXXXX)"
cleanup() {
  ./scripts/postgres-test-cluster.sh stop "$pgdir" || true
  rm -rf "$XDG_RUNTIME_DIR"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "==> Starting a throwaway PostgreSQL cluster"
if ! SCHEDY_TEST_POSTGRES_URL="$(./scripts/postgres-test-cluster.sh start "$pgdir")"; then
  echo "==> FAILED: PostgreSQL could not be started, and the server tests need it (see above)" >&2
  exit 1
fi
export SCHEDY_TEST_POSTGRES_URL

echo "==> Testing"
ctest --preset "$preset" --parallel 2 "$@"
