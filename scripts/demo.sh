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
collector_pid=""
cleanup() {
  if [[ -n "$collector_pid" ]]; then
    kill "$collector_pid" 2>/dev/null || true
    wait "$collector_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
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

say "collector: a site on its embedded store, on 127.0.0.1 only"
collector="$bin/collector/server/ward-collector"
cdir="$work/collector"
for attempt in 1 2 3 4 5; do
  port=$((20000 + RANDOM % 40000))
  rm -rf "$cdir"
  "$collector" init --data-dir "$cdir" --host 127.0.0.1 --listen "127.0.0.1:$port" >/dev/null
  "$collector" --data-dir "$cdir" --log-level warning &
  collector_pid=$!
  sleep 0.5
  if kill -0 "$collector_pid" 2>/dev/null; then break; fi
  wait "$collector_pid" 2>/dev/null || true
  collector_pid=""
  echo "port $port was taken; trying another (attempt $attempt)"
done
[[ -n "$collector_pid" ]] || { echo "demo: the collector would not start" >&2; exit 1; }
url="https://127.0.0.1:$port"
echo "ward-collector pid $collector_pid serving $url"
"$collector" add-group --data-dir "$cdir" --name learners-under-18 \
  --pubkey-file "$work/keys/ward-policy.pub"
secret=$("$collector" enrolment-secret --data-dir "$cdir" --group learners-under-18)
echo "enrolment secret for learners-under-18: ${secret:0:12}... (agents use it once)"
it_token=$("$collector" token create --data-dir "$cdir" --role it --name "IT demo")
dsl_token=$("$collector" token create --data-dir "$cdir" --role dsl --name "DSL demo")
# /metrics counts concerns as they arrive, so it needs a token: a monitoring system's own.
metrics_token=$("$collector" token create --data-dir "$cdir" --role metrics --name "monitoring")
printf '%s\n' "$secret" >"$work/enrolment.secret"
chmod 0600 "$work/enrolment.secret"
curl -sS --cacert "$cdir/ca.pem" "$url/healthz"
staff=(--collector "$url" --ca "$cdir/ca.pem" --token "$it_token")
"$wardctl" policy push "$work/under18.bundle" --group learners-under-18 "${staff[@]}"
"$wardctl" devices "${staff[@]}"
curl -sS --cacert "$cdir/ca.pem" -H "Authorization: Bearer $metrics_token" "$url/metrics" | grep -E '^ward_collector_(policy_pushes_total|connections_open)'

say "enforcement, safely: a program outside the allowlist, then a new policy"
bash scripts/demo-enforcement.sh "$bin/agent/app/ward-agent" "$wardctl"

say "a learner reports a concern: through the agent's socket, its encrypted store, to the collector"
bash scripts/demo-concern.sh "$bin/agent/app/ward-agent" "$work/under18.bundle" \
  "$work/keys/ward-policy.pub" "$url" "$cdir/ca.pem" "$work/enrolment.secret"

say "the collector: the laptop enrolled, its events arrived, the DSL sees the concern"
"$wardctl" devices "${staff[@]}"
"$wardctl" events tail "${staff[@]}" | tail -n 5
dsl=(--collector "$url" --ca "$cdir/ca.pem" --token "$dsl_token")
concerns=$("$wardctl" concerns list "${dsl[@]}")
printf '%s\n' "$concerns"
grep -q '^1 concern$' <<<"$concerns" ||
  { echo "demo: the concern did not reach the collector's inbox" >&2; exit 1; }
kill "$collector_pid"
wait "$collector_pid" || true
collector_pid=""
echo "collector stopped"

say "done"
