#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine if needed, builds with warnings as errors
# and runs the whole test suite through ctest.
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/setup.sh ci

# Tests get a private runtime dir and never touch the user's real config.
export XDG_RUNTIME_DIR="$(mktemp -d)"
chmod 0700 "$XDG_RUNTIME_DIR"
export QT_QPA_PLATFORM=offscreen
trap 'rm -rf "$XDG_RUNTIME_DIR"' EXIT

echo "==> Testing"
ctest --preset ci --parallel 2 "$@"
