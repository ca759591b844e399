#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The Debian package tests, each stage timed: build the packages and lintian them, make the
# upgrade test's "previous version" from them (the same files repacked as "<version>~prev1", which
# sorts lower: the upgrade exercises the maintainer scripts, the services and the state they
# keep, not changes between two releases' binaries; a real release upgrade is checked by hand),
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

# repack_as_prev: every .deb in $new again, as version $version~prev1 (control's Version and the
# exact-version dependencies between Ward's own packages), into $prev.
repack_as_prev() {
  local deb tree old=$version lower=$version~prev1
  mkdir -p "$prev"
  tree=$(mktemp -d)
  for deb in "$new"/*.deb; do
    rm -rf "$tree/p"
    dpkg-deb -R "$deb" "$tree/p"
    sed -i -E -e "s/^Version: ${old//./\\.}\$/Version: $lower/" \
      -e "s/\(= ${old//./\\.}\)/(= $lower)/g" "$tree/p/DEBIAN/control"
    grep -qx "Version: $lower" "$tree/p/DEBIAN/control" || {
      echo "test-debs: $(basename "$deb") has no Version: $old" >&2
      return 1
    }
    dpkg-deb --root-owner-group -Zgzip -z1 -b "$tree/p" "$prev/" >/dev/null
  done
  rm -rf "$tree"
}

rm -rf "$new" "$prev"
timed "build $version + lintian" bash scripts/build-debs.sh --out "$new"
timed "repack as $version~prev1 (upgrade test's old)" repack_as_prev
timed "chroot: install, upgrade, remove, purge" bash tests/installer/deb_chroot_test.sh "$new" "$prev"
timed "QEMU systemd guest: enrol, upgrade, purge" \
  bash tests/e2e/qemu/deb_e2e.sh "$new" "$prev" "$ci_build/collector/server/ward-collector" \
  "$ci_build/collector/ctl/wardctl" "$ci_build/tests/e2e/qemu/cache"
