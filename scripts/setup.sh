#!/usr/bin/env bash
# Installs what is missing from Debian's archive, then configures and builds
# Schedy with the given CMake preset (default: dev): the given targets, or
# what the preset's build preset builds (everything but for asan).
#
#   scripts/setup.sh [PRESET [TARGET...]]
set -euo pipefail
cd "$(dirname "$0")/.."

preset="${1:-dev}"
shift || true
targets=("$@")
packages=(build-essential cmake ninja-build pkg-config
          qt6-base-dev libqt6opengl6-dev qt6-charts-dev qt6-httpserver-dev qt6-websockets-dev
          qt6-tools-dev qt6-svg-dev libqt6sql6-sqlite libqt6sql6-psql
          help2man xvfb xauth)
# The tests and CI's gates: the package test (cpack, dpkg), the metadata
# validators, the Python worker, the style and static-analysis gates.
if [[ $preset != dev ]]; then
  packages+=(dpkg-dev file fakeroot appstream desktop-file-utils python3 clang-format clang-tidy)
fi
if [[ -n "${SCHEDY_EXTRA_PACKAGES:-}" ]]; then
  read -r -a extra <<< "$SCHEDY_EXTRA_PACKAGES"
  packages+=("${extra[@]}")
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if (( ${#missing[@]} )); then
  echo "==> Installing missing packages: ${missing[*]}"
  sudo=""
  [[ $(id -u) -eq 0 ]] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

echo "==> Configuring (preset $preset)"
cmake --preset "$preset" > /dev/null
if (( ${#targets[@]} )); then
  echo "==> Building ${targets[*]}"
  cmake --build --preset "$preset" --target "${targets[@]}"
else
  echo "==> Building"
  cmake --build --preset "$preset"
fi
