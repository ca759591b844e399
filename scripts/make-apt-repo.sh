#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Makes (or updates) a signed apt repository of Ward's packages that IT can serve from any web
# server, with Debian's own apt-ftparchive and the site's OpenPGP key.
#   usage: scripts/make-apt-repo.sh --debs DIR --out REPO --key KEY [--suite bookworm]
#                                   [--extra FILE.deb ...] [--url URL]
#   --debs DIR    the .debs to publish (scripts/build-debs.sh's output; -dbgsym packages too)
#   --out REPO    the repository directory (made if absent; published packages stay, so older
#                 versions remain installable; a newer one in --debs becomes the candidate)
#   --key KEY     the signing key's fingerprint in the gpg keyring ($GNUPGHOME or ~/.gnupg);
#                 make one once with: gpg --quick-gen-key "Ward packages <it@example.ac.uk>"
#                 ed25519 sign never
#   --extra FILE  another .deb to publish, e.g. libsqlcipher1 from bookworm-backports
#                 (`apt-get download -t bookworm-backports libsqlcipher1`), so laptops need no
#                 backports entry
#   --url URL     where the repository will be served (only for the printed sources file)
# Writes pool/main/*.deb, dists/SUITE/main/binary-ARCH/Packages{,.gz}, dists/SUITE/{Release,
# InRelease,Release.gpg} and ward-archive-keyring.gpg (the public key, for Signed-By:), then
# prints the file a laptop needs in /etc/apt/sources.list.d/ward.sources.
set -euo pipefail

debs=""
repo=""
key=""
suite=bookworm
url="https://packages.example.ac.uk/ward"
extra=()
while (($#)); do
  case "$1" in
    --debs) debs=$2; shift 2 ;;
    --out) repo=$2; shift 2 ;;
    --key) key=$2; shift 2 ;;
    --suite) suite=$2; shift 2 ;;
    --extra) extra+=("$2"); shift 2 ;;
    --url) url=$2; shift 2 ;;
    -h | --help) sed -n '3,22p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "make-apt-repo: unknown argument '$1' (try --help)" >&2; exit 2 ;;
  esac
done
[[ -n "$debs" && -n "$repo" && -n "$key" ]] || { echo "make-apt-repo: --debs, --out and --key are needed (try --help)" >&2; exit 2; }
for tool in apt-ftparchive gpg dpkg-deb; do
  command -v "$tool" >/dev/null || { echo "make-apt-repo: $tool is not installed (apt-get install apt-utils gnupg)" >&2; exit 1; }
done
gpg --batch --list-secret-keys "$key" >/dev/null 2>&1 || { echo "make-apt-repo: no secret key '$key' in the gpg keyring" >&2; exit 1; }

mkdir -p "$repo/pool/main"
repo=$(cd "$repo" && pwd)
shopt -s nullglob
published=0
for deb in "$debs"/*.deb "${extra[@]}"; do
  cp -f "$deb" "$repo/pool/main/"
  published=$((published + 1))
done
((published > 0)) || { echo "make-apt-repo: no .deb in $debs" >&2; exit 1; }

cd "$repo"
archs=$(for deb in pool/main/*.deb; do dpkg-deb -f "$deb" Architecture; done | grep -vx all | sort -u)
[[ -n "$archs" ]] || archs=amd64
for arch in $archs; do
  dir=dists/$suite/main/binary-$arch
  mkdir -p "$dir"
  apt-ftparchive --arch "$arch" packages pool/main >"$dir/Packages"
  gzip -9nc "$dir/Packages" >"$dir/Packages.gz"
done
apt-ftparchive \
  -o APT::FTPArchive::Release::Origin="Ward" \
  -o APT::FTPArchive::Release::Label="Ward" \
  -o APT::FTPArchive::Release::Suite="$suite" \
  -o APT::FTPArchive::Release::Codename="$suite" \
  -o APT::FTPArchive::Release::Architectures="$(echo $archs)" \
  -o APT::FTPArchive::Release::Components="main" \
  -o APT::FTPArchive::Release::Description="Ward endpoint safeguarding" \
  release "dists/$suite" >"dists/$suite/Release.new"
mv "dists/$suite/Release.new" "dists/$suite/Release"
rm -f "dists/$suite/InRelease" "dists/$suite/Release.gpg"
gpg --batch --yes --local-user "$key" --digest-algo SHA512 --clearsign \
  -o "dists/$suite/InRelease" "dists/$suite/Release"
gpg --batch --yes --local-user "$key" --digest-algo SHA512 --armor --detach-sign \
  -o "dists/$suite/Release.gpg" "dists/$suite/Release"
gpg --batch --yes --export "$key" >ward-archive-keyring.gpg

echo "make-apt-repo: $repo ($suite: $(ls pool/main/*.deb | wc -l) packages, signed by $key)"
cat <<EOF
On each laptop: copy $repo/ward-archive-keyring.gpg to /usr/share/keyrings/, then write
/etc/apt/sources.list.d/ward.sources:

Types: deb
URIs: $url
Suites: $suite
Components: main
Signed-By: /usr/share/keyrings/ward-archive-keyring.gpg
EOF
