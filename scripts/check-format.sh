#!/usr/bin/env bash
# Fails when any tracked C++ file differs from what Debian's clang-format makes
# of it with the project's .clang-format; names the files and how to fix them.
set -euo pipefail
cd "$(dirname "$0")/.."

command -v clang-format >/dev/null || { echo "clang-format is missing: run scripts/setup.sh ci" >&2; exit 1; }
mapfile -t files < <(git ls-files '*.cpp' '*.h')
mapfile -t differ < <(printf '%s\0' "${files[@]}" |
  xargs -0 -n 16 -P 2 clang-format --dry-run 2>&1 | sed -n 's/^\([^:]*\):[0-9]*:[0-9]*: warning:.*/\1/p' | sort -u)
if (( ${#differ[@]} )); then
  echo "check-format: ${#differ[@]} of ${#files[@]} files are not formatted ($(clang-format --version)):" >&2
  printf '  %s\n' "${differ[@]}" >&2
  echo "fix with: clang-format -i ${differ[*]}" >&2
  exit 1
fi
echo "check-format: ${#files[@]} files formatted"
