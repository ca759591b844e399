#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Install, enrol, upgrade, remove, reinstall and purge Ward's packages in a fresh Debian 12
# (debootstrap) chroot, like piuparts but with Ward's own checks: the previous version's four
# packages are installed (the agent preseeded through debconf and enrolled to the packaged
# collector running in the chroot), upgraded to the new ones, removed, reinstalled, purged; a
# second agent install enrols from IT's drop-in files; at the end the chroot must hold no file the
# base did not have, except the collector's system account.
#   usage: deb_chroot_test.sh <new .debs dir> <previous .debs dir>
# The base (debootstrap --variant=minbase plus the packages' dependencies, from this machine's
# own Debian mirror) is cached as a tarball under WARD_DEB_CACHE (default
# /var/cache/ward/debootstrap), keyed by suite, debootstrap version, the dependency list and the
# month, so CI downloads it about once a month. WARD_DEB_KEEP=1 keeps the work directory.
# Nothing is installed on this machine: everything happens inside the chroot, in a private mount
# and PID namespace (only /proc is mounted there; never /sys).
set -euo pipefail
usage="usage: $0 <new .debs dir> <previous .debs dir>"
new=$(readlink -f "${1:?$usage}")
prev=$(readlink -f "${2:?$usage}")
here=$(cd "$(dirname "$0")" && pwd)
suite=bookworm
cache=${WARD_DEB_CACHE:-/var/cache/ward/debootstrap}
started=$(date +%s.%N)
elapsed() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN {printf "%.1f", b - a}'; }

[[ $(id -u) == 0 ]] || { echo "FAIL: needs root (debootstrap, chroot)" >&2; exit 1; }
for tool in debootstrap unshare chroot dpkg-deb; do
  command -v "$tool" >/dev/null || { echo "FAIL: $tool is not installed (scripts/setup-debian.sh)" >&2; exit 1; }
done
ls "$new"/ward-agent_*.deb "$prev"/ward-agent_*.deb >/dev/null

# The packages' dependencies (names only; alternatives: the first), plus what the test uses.
deps=$(for deb in "$new"/ward-*.deb "$new"/wardctl_*.deb; do
  [[ "$deb" == *-dbgsym_* ]] && continue
  dpkg-deb -f "$deb" Depends Recommends
done | sed 's/^[A-Za-z]*: //' | tr ',' '\n' | sed -E 's/\|.*//; s/\(.*\)//; s/:any//; s/[[:space:]]//g' |
  grep -v '^$' | grep -v '^ward-' | sort -u | tr '\n' ' ')
tools="curl debconf-utils procps"
key=$(printf '%s %s %s %s' "$suite" "$(dpkg-query -W -f='${Version}' debootstrap)" "$deps $tools" "$(date +%Y-%m)" |
  sha256sum | cut -c1-16)
base=$cache/$suite-minbase-$key.tar.gz

# This machine's Debian mirror (its own apt source), so no host is named here.
mirror=$(awk '/^URIs:/ {u = $2} /^Suites:/ && / bookworm( |$)/ {print u; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
[[ -n "$mirror" ]] || mirror=$(awk '$1 == "deb" && $3 == "bookworm" {print $2; exit}' /etc/apt/sources.list 2>/dev/null || true)

work=$(mktemp -d -t ward-deb-chroot.XXXXXX)
cleanup() {
  if [[ "${WARD_DEB_KEEP:-}" == 1 ]]; then echo "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
root=$work/root

if [[ ! -s "$base" ]]; then
  [[ -n "$mirror" ]] || { echo "FAIL: no Debian bookworm source in this machine's apt configuration" >&2; exit 1; }
  t=$(date +%s.%N)
  echo "base: making $base (debootstrap $suite from this machine's Debian mirror)"
  mkdir -p "$cache" "$root"
  debootstrap --variant=minbase "$suite" "$root" "$mirror" >"$work/debootstrap.log" 2>&1 ||
    { tail -20 "$work/debootstrap.log" >&2; echo "FAIL: debootstrap" >&2; exit 1; }
  # The chroot uses the same Debian sources as this machine (main, updates, security, backports).
  rm -f "$root/etc/apt/sources.list"
  for f in /etc/apt/sources.list.d/debian.sources /etc/apt/sources.list.d/*backports*.sources; do
    [[ -f "$f" ]] && grep -q '^Types: deb$' "$f" && cp "$f" "$root/etc/apt/sources.list.d/"
  done
  head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$root/etc/machine-id"
  echo >>"$root/etc/machine-id"
  # shellcheck disable=SC2086
  unshare --mount --pid --fork --mount-proc="$root/proc" chroot "$root" /bin/sh -c "
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq &&
    apt-get install -y -qq --no-install-recommends -t $suite-backports libsqlcipher1 &&
    apt-get install -y -qq --no-install-recommends $deps $tools &&
    apt-get clean && rm -rf /var/lib/apt/lists/*" >"$work/base.log" 2>&1 ||
    { tail -30 "$work/base.log" >&2; echo "FAIL: installing the dependencies in the base" >&2; exit 1; }
  tar -C "$root" -czf "$base.tmp" . && mv "$base.tmp" "$base"
  # Older bases of this suite are not needed any more.
  find "$cache" -name "$suite-minbase-*.tar.gz" ! -name "$(basename "$base")" -delete
  rm -rf "$root"
  echo "base: made in $(elapsed "$t") s ($(du -h "$base" | cut -f1))"
else
  echo "base: cached $(basename "$base")"
fi

t=$(date +%s.%N)
mkdir -p "$root"
tar -C "$root" -xzf "$base"
mkdir -p "$root/srv/ward-test/new" "$root/srv/ward-test/prev"
cp "$new"/*.deb "$root/srv/ward-test/new/"
cp "$prev"/*.deb "$root/srv/ward-test/prev/"
rm -f "$root"/srv/ward-test/*/*-dbgsym_*.deb
install -m 0755 "$here/deb_chroot_inside.sh" "$root/srv/ward-test/inside.sh"
# A signed apt repository made by scripts/make-apt-repo.sh with a throwaway site key: first with
# the previous version only, then with the new one added.
export GNUPGHOME=$work/gnupg
mkdir -m 0700 "$GNUPGHOME"
gpg --batch --quiet --passphrase '' --quick-gen-key "Ward test archive <test@example.org>" \
  ed25519 sign never 2>/dev/null
fpr=$(gpg --batch --with-colons --list-secret-keys 2>/dev/null | awk -F: '$1 == "fpr" {print $10; exit}')
make_repo=$here/../../scripts/make-apt-repo.sh
bash "$make_repo" --debs "$prev" --out "$work/repo" --key "$fpr" >/dev/null 2>&1
cp -a "$work/repo" "$root/srv/ward-test/repo-prev"
bash "$make_repo" --debs "$new" --out "$work/repo" --key "$fpr" >/dev/null 2>&1
cp -a "$work/repo" "$root/srv/ward-test/repo-new"
echo "chroot ready in $(elapsed "$t") s"

# A private mount and PID namespace: /proc for the chroot, nothing else of this machine's.
# The network is this machine's: the chroot's collector listens on 127.0.0.1 only.
t=$(date +%s.%N)
rc=0
unshare --mount --pid --fork --mount-proc="$root/proc" \
  chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 \
  /bin/bash /srv/ward-test/inside.sh || rc=$?
echo "chroot scenario in $(elapsed "$t") s; whole test $(elapsed "$started") s"
if ((rc != 0)); then
  echo "FAIL: deb chroot test ($rc)" >&2
  exit 1
fi
echo "deb chroot test: all checks passed"
