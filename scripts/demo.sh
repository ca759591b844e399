#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Ward's main job, locally and safely: installs what is missing, builds, and walks through the
# loop in a temporary directory. Everything it starts it stops again, by PID.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

say "setup"
bash scripts/setup-debian.sh

say "build (ci preset)"
cmake --preset ci >/dev/null
cmake --build --preset ci -j "$(nproc)"
bin="$root/build/ci"

work=$(mktemp -d -t ward-demo.XXXXXX)
cleanup() { rm -rf "$work"; }
trap cleanup EXIT
echo "working in $work"

say "the wire contract"
ls "$bin/proto/gen/ward/v1/"

say "policy: signing keys, lint, sign, verify"
wardctl="$bin/collector/ctl/wardctl"
sample=tests/testdata/policy/sample-under18.json
"$wardctl" keygen --out-dir "$work/keys"
"$wardctl" policy lint "$sample"
"$wardctl" policy sign "$sample" --key "$work/keys/ward-policy.key" --out "$work/under18.bundle"
"$wardctl" policy show "$work/under18.bundle" --pubkey "$work/keys/ward-policy.pub"

say "policy: a changed byte or an old version is refused"
cp "$work/under18.bundle" "$work/tampered.bundle"
printf 'X' | dd of="$work/tampered.bundle" bs=1 seek=200 conv=notrunc status=none
for check in "$work/tampered.bundle" "$work/under18.bundle --in-force 1"; do
  # shellcheck disable=SC2086 # $check carries the extra option on purpose
  if "$wardctl" policy show $check --pubkey "$work/keys/ward-policy.pub" >/dev/null; then
    echo "demo: wardctl accepted a bundle it must refuse" >&2
    exit 1
  fi
done

say "policy: importing USBGuard rules"
grep -v '^#' tests/testdata/usbguard/college-rules.conf | grep -v '^$'
"$wardctl" policy import-usbguard tests/testdata/usbguard/college-rules.conf --usb-only \
  --out "$work/imported-usb.json"
ids=$(grep -o '"id": "[^"]*"' "$work/imported-usb.json" | cut -d'"' -f4 | tr '\n' ' ')
echo "imported rule ids: $ids"

say "enforcement, safely: a program outside the allowlist, then a new policy"
bash scripts/demo-enforcement.sh "$bin/agent/app/ward-agent" "$wardctl"

say "a learner reports a concern: through the agent's socket into its encrypted store"
bash scripts/demo-concern.sh "$bin/agent/app/ward-agent" "$work/under18.bundle" \
  "$work/keys/ward-policy.pub"

say "done"
