#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Builds Ward's Debian packages (ward-agent, ward-tray, ward-collector, wardctl and their -dbgsym)
# with debhelper from installer/debian, then runs lintian on them (no error, no warning).
#   usage: scripts/build-debs.sh [--out DIR] [--version VERSION] [--no-lintian]
# The version is CMake's project() version (CMakeLists.txt, the one place it is set); --version
# builds another one (a native Debian version, e.g. "0.2.0~rc1"). The .debs,
# the .changes and the .buildinfo land in DIR (default build/debs/out/VERSION).
# The source is copied to WORK/src with installer/debian as its debian/ directory, and built in
# WORK/obj, kept between runs. WORK is /var/cache/ward/debs when run as root (WARD_DEB_WORK
# overrides it; build/debs otherwise): one fixed path for every clone, because dpkg-buildflags
# put the source's absolute path into the compiler flags (-ffile-prefix-map), and ccache only
# hits when the flags are the same. Two builds at once wait for each other (a lock on WORK).
# Needs root (it installs the build tools) or them installed.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
started=$(date +%s.%N)

out=""
version=""
lintian=1
while (($#)); do
  case "$1" in
    --out) out=$2; shift 2 ;;
    --version) version=$2; shift 2 ;;
    --no-lintian) lintian=0; shift ;;
    -h | --help) sed -n '3,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "build-debs: unknown argument '$1' (try --help)" >&2; exit 2 ;;
  esac
done

cmake_version=$(sed -nE 's/^project\(ward VERSION ([0-9]+\.[0-9]+\.[0-9]+).*/\1/p' CMakeLists.txt)
[[ -n "$cmake_version" ]] || { echo "build-debs: no project(ward VERSION x.y.z) in CMakeLists.txt" >&2; exit 1; }
version=${version:-$cmake_version}
if [[ ! "$version" =~ ^[0-9][0-9A-Za-z.+~]*$ ]]; then
  echo "build-debs: '$version' is not a native Debian version" >&2
  exit 2
fi
out=${out:-build/debs/out/$version}
mkdir -p "$out"
out=$(cd "$out" && pwd)

for tool in dpkg-buildpackage dh lintian po2debconf; do
  if ! command -v "$tool" >/dev/null; then
    bash scripts/setup-debian.sh
    break
  fi
done

# The source as git knows it (tracked and new files, not ignored ones), copied afresh so that a
# file git no longer has is not built.
if [[ -n "${WARD_DEB_WORK:-}" ]]; then
  work=$WARD_DEB_WORK
elif ((EUID == 0)); then
  work=/var/cache/ward/debs
else
  work=$root/build/debs
fi
mkdir -p "$work"
exec 8>"$work/.lock"
if ! flock -n 8; then
  echo "build-debs: another package build is using $work; waiting for it"
  flock 8
fi
src=$work/src
rm -rf "$src"
mkdir -p "$src"
git ls-files -z --cached --others --exclude-standard -- . ':!:installer/debian' |
  tar --null -T - -cf - | tar -xf - -C "$src"
cp -a installer/debian "$src/debian"

# debian/changelog: one entry for the version being built.
maintainer=$(sed -n 's/^Maintainer: //p' installer/debian/control)
{
  echo "ward ($version) bookworm; urgency=medium"
  echo
  echo "  * Ward $version."
  echo
  echo " -- $maintainer  $(date -R -d "@${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}")"
} >"$src/debian/changelog"

echo "build-debs: building ward $version (source in $src)"
(
  cd "$src"
  WARD_DEB_BUILDDIR="$work/obj" WARD_DEB_CCACHE=1 \
    dpkg-buildpackage -b -us -uc -j"$(nproc)" >"$work/build.log" 2>&1
) || { grep -E -B2 -A8 'error|Error|warning: ' "$work/build.log" | cut -c1-300 | tail -60 >&2; echo "build-debs: dpkg-buildpackage failed (log: $work/build.log)" >&2; exit 1; }

changes=$work/ward_${version}_$(dpkg-architecture -qDEB_HOST_ARCH).changes
# Everything the build made, moved together so each version's files stay apart.
mapfile -t made < <(awk '/^Files:/ {f = 1; next} /^[^ ]/ {f = 0} f {print $5}' "$changes")
for file in "${made[@]}"; do mv -f "$work/$file" "$out/"; done
mv -f "$changes" "$out/"
built=$(awk -v a="$started" -v b="$(date +%s.%N)" 'BEGIN {printf "%.1f", b - a}')
echo "build-debs: built in $built s:"
(cd "$out" && ls -1 ./*.deb | sed 's|^\./|  |')

# Hardening, checked on the binaries as shipped: PIE, stack protector, full RELRO, bindnow.
# (Fortify is on too, but hardening-check cannot see it in a program that calls no fortifiable
# function, e.g. wardctl; stack-clash and CET are not among bookworm's dpkg-buildflags.)
if command -v hardening-check >/dev/null; then
  check_dir=$(mktemp -d)
  for deb in "$out"/*.deb; do
    [[ "$deb" == *-dbgsym_* ]] || dpkg-deb -x "$deb" "$check_dir"
  done
  if ! hardening-check --quiet --nofortify --nocfprotection \
      "$check_dir"/usr/sbin/* "$check_dir"/usr/bin/*; then
    rm -rf "$check_dir"
    echo "build-debs: a binary is not hardened" >&2
    exit 1
  fi
  echo "build-debs: hardening: PIE, stack protector, RELRO, bindnow on every binary"
  rm -rf "$check_dir"
fi

if ((lintian)); then
  lint_started=$(date +%s.%N)
  # --fail-on warning: an error or a warning fails the build. Overrides carry their reason in
  # installer/debian/*.lintian-overrides.
  if ! lintian --fail-on error,warning --display-info --no-tag-display-limit \
      "$out/$(basename "$changes")" >"$out/lintian.txt" 2>&1; then
    cat "$out/lintian.txt" >&2
    echo "build-debs: lintian found errors or warnings" >&2
    exit 1
  fi
  echo "build-debs: lintian: no errors, no warnings ($(grep -c '^[IP]:' "$out/lintian.txt" || true) info lines in $out/lintian.txt; $(awk -v a="$lint_started" -v b="$(date +%s.%N)" 'BEGIN {printf "%.1f", b - a}') s)"
fi
