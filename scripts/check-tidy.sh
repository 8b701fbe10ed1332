#!/usr/bin/env bash
# Runs Debian's clang-tidy with the project's .clang-tidy over the libraries
# (src/core, src/client, src/server: the code every program shares), two files
# at a time, using the compile commands of a configured and built tree.
#
#   scripts/check-tidy.sh [BUILD_DIR]     (default build/ci)
set -euo pipefail
cd "$(dirname "$0")/.."

build=${1:-build/ci}
command -v run-clang-tidy >/dev/null || { echo "clang-tidy is missing: run scripts/setup.sh ci" >&2; exit 1; }
[[ -f $build/compile_commands.json ]] ||
  { echo "check-tidy: no $build/compile_commands.json: configure and build first (scripts/setup.sh ci)" >&2; exit 1; }
mapfile -t files < <(git ls-files 'src/core/*.cpp' 'src/client/*.cpp' 'src/server/*.cpp')
# run-clang-tidy takes regular expressions matched against the compile commands.
regexes=()
for f in "${files[@]}"; do regexes+=("$PWD/${f//./\\.}\$"); done
log=$(mktemp)
trap 'rm -f "$log"' EXIT
# (run-clang-tidy colours the output even into a file: strip that.)
if run-clang-tidy -p "$build" -j 2 -quiet "${regexes[@]}" 2>&1 | sed 's/\x1b\[[0-9;]*m//g' >"$log"; then
  echo "check-tidy: ${#files[@]} files clean"
else
  # Only the findings and their context, not the per-file banners.
  grep -v -E '^(clang-tidy|[0-9]+ warnings? (and [0-9]+ errors? )?generated|Suppressed [0-9]+ warnings|Use -header-filter)' "$log" >&2 || true
  echo "check-tidy: findings in: $(grep -oE '^/[^:]+:[0-9]+:[0-9]+: (warning|error)' "$log" | cut -d: -f1 | sort -u | sed "s|^$PWD/||" | tr '\n' ' ')" >&2
  exit 1
fi
