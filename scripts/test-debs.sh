#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The Debian package tests, each stage timed: build the packages twice (the previous version
# "<version>~prev1" and this one, from the same kept build directory), lintian on this one,
# install/enrol/upgrade/remove/purge in a fresh debootstrap chroot, then the same life cycle
# under systemd in the QEMU guest (enrolled to a collector on this machine's loopback).
# Needs the `ci` preset's ward-collector and wardctl (scripts/test.sh builds them first).
#   usage: scripts/test-debs.sh [build dir of the ci preset, default build/ci]
set -euo pipefail
cd "$(dirname "$0")/.."
ci_build=${1:-build/ci}
version=$(sed -nE 's/^project\(ward VERSION ([0-9]+\.[0-9]+\.[0-9]+).*/\1/p' CMakeLists.txt)
new=build/debs/out/new
prev=build/debs/out/prev
times=()
timed() { # timed NAME COMMAND...
  local name=$1 start rc=0
  shift
  start=$(date +%s.%N)
  "$@" || rc=$?
  times+=("$(printf '%-46s %6.1f s' "$name" "$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN {print b - a}')")")
  printf 'time: %s\n' "${times[-1]}"
  return "$rc"
}
summary() {
  echo "package stages:"
  printf '  %s\n' "${times[@]}"
}
trap summary EXIT

rm -rf "$new" "$prev"
timed "build $version~prev1 (upgrade test's old)" \
  bash scripts/build-debs.sh --version "$version~prev1" --out "$prev" --no-lintian
timed "build $version + lintian" bash scripts/build-debs.sh --out "$new"
timed "chroot: install, upgrade, remove, purge" bash tests/installer/deb_chroot_test.sh "$new" "$prev"
timed "QEMU systemd guest: enrol, upgrade, purge" \
  bash tests/e2e/qemu/deb_e2e.sh "$new" "$prev" "$ci_build/collector/server/ward-collector" \
  "$ci_build/collector/ctl/wardctl" "$ci_build/tests/e2e/qemu/cache"
