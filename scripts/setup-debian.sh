#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Installs every Debian 12 package Ward needs to build, test and run its demo.
# Idempotent: when everything is present it only checks and returns in well under a second.
# SQLCipher 4 comes from bookworm-backports, enabled from this machine's own Debian source.
set -euo pipefail

if [[ $(id -u) -ne 0 ]]; then
  echo "setup: please run as root (it installs Debian packages)" >&2
  exit 1
fi

# Packages from the main suite.
MAIN_PKGS=(
  build-essential cmake ninja-build pkg-config git ca-certificates ccache
  clang-19 libclang-rt-19-dev clang-format-19 llvm
  qt6-base-dev qt6-tools-dev qt6-tools-dev-tools qt6-l10n-tools libgl-dev
  libpoco-dev libssl-dev libprotobuf-dev protobuf-compiler libboost1.81-dev
  libusb-1.0-0-dev libudev-dev libsystemd-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libsqlite3-dev sqlite3 libpq-dev postgresql
  umockdev libumockdev-dev dconf-cli util-linux iproute2 curl
  qemu-system-x86 busybox-static kmod xz-utils perl systemd
  liblmdb0 libmagic1 libcap-ng0 libseccomp2
  xvfb trayer x11-apps imagemagick xdotool jq
  debhelper dpkg-dev po-debconf lintian devscripts debootstrap apt-utils gnupg openssl socat
  chromium
)
# Packages that must come from bookworm-backports (SQLCipher 4.x; bookworm itself has 3.4.1).
BACKPORT_PKGS=(libsqlcipher-dev libsqlcipher1 sqlcipher)

missing_main=()
for p in "${MAIN_PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing_main+=("$p")
done
missing_bp=()
for p in "${BACKPORT_PKGS[@]}"; do
  ver=$(dpkg-query -W -f='${Status} ${Version}' "$p" 2>/dev/null || true)
  # Require a 4.x version: the 3.4.1 from the main suite is too old (no UPSERT, HMAC-SHA1).
  if ! grep -q "install ok installed 4\." <<<"$ver"; then missing_bp+=("$p"); fi
done

if [[ ${#missing_main[@]} -eq 0 && ${#missing_bp[@]} -eq 0 ]]; then
  echo "setup: all Debian packages present"
  exit 0
fi

# Enable bookworm-backports by copying this machine's own Debian entry, so no host is named here.
enable_backports() {
  local out=/etc/apt/sources.list.d/ward-bookworm-backports.sources
  rm -f "$out" /etc/apt/sources.list.d/ward-bookworm-backports.list
  if grep -rqs "bookworm-backports" /etc/apt/sources.list /etc/apt/sources.list.d/; then
    return 0
  fi
  if [[ -f /etc/apt/sources.list.d/debian.sources ]]; then
    # deb822: take the first stanza whose Suites list plain "bookworm".
    awk -v RS= '
      /(^|\n)Suites:[^\n]*(^|[ \t])bookworm([ \t]|\n|$)/ && !done {
        n = split($0, lines, "\n")
        for (i = 1; i <= n; i++) {
          if (lines[i] ~ /^Suites:/) { printf "Suites: bookworm-backports\n" }
          else if (lines[i] !~ /^#/ && lines[i] != "") { printf "%s\n", lines[i] }
        }
        done = 1
      }' /etc/apt/sources.list.d/debian.sources >"$out"
  elif [[ -f /etc/apt/sources.list ]]; then
    # one-line format: reuse the first "deb URI bookworm main..." line.
    local line
    line=$(grep -E '^deb\s+\S+\s+bookworm\s' /etc/apt/sources.list | head -n1 || true)
    if [[ -n $line ]]; then
      sed -E 's/^(deb\s+\S+\s+)bookworm(\s)/\1bookworm-backports\2/' <<<"$line" \
        >/etc/apt/sources.list.d/ward-bookworm-backports.list
      out=/etc/apt/sources.list.d/ward-bookworm-backports.list
    fi
  fi
  if [[ ! -s $out ]]; then
    echo "setup: could not find this machine's Debian 'bookworm' source to derive backports from" >&2
    rm -f "$out"
    exit 1
  fi
  echo "setup: enabled bookworm-backports in $out"
}

export DEBIAN_FRONTEND=noninteractive
[[ ${#missing_bp[@]} -gt 0 ]] && enable_backports
echo "setup: installing ${missing_main[*]} ${missing_bp[*]}"
apt-get update -qq
if [[ ${#missing_main[@]} -gt 0 ]]; then
  apt-get install -y -qq --no-install-recommends "${missing_main[@]}" >/dev/null
fi
if [[ ${#missing_bp[@]} -gt 0 ]]; then
  apt-get install -y -qq --no-install-recommends -t bookworm-backports "${missing_bp[@]}" >/dev/null
fi
echo "setup: done"
