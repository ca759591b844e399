#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Ward's application allowlist, enforced for real but in a safe scope: run as root, it re-runs
# itself inside `unshare -m --propagation private`, mounts a tmpfs there and lets ward-agent
# watch only that tmpfs. Nothing outside this private mount namespace is checked or held.
# Policies are signed with wardctl and verified by the agent against the pinned public key.
#   usage: scripts/demo-enforcement.sh <path to ward-agent> <path to wardctl>
set -euo pipefail
agent=${1:?usage: $0 <path to ward-agent> <path to wardctl>}
wardctl=${2:?usage: $0 <path to ward-agent> <path to wardctl>}
if [[ $(id -u) -ne 0 ]]; then
  echo "(skipped: the enforcement demo needs root for fanotify)"
  exit 0
fi
if [[ "${WARD_DEMO_INNER:-}" != 1 ]]; then
  WARD_DEMO_INNER=1 exec unshare -m --propagation private "$0" "$@"
fi

dir=$(mktemp -d -t ward-enforce.XXXXXX)
mount -t tmpfs -o size=16m ward-demo "$dir"
agent_pid=
finish() {
  if [[ -n "$agent_pid" ]]; then kill "$agent_pid" 2>/dev/null || true; wait "$agent_pid" 2>/dev/null || true; fi
  umount "$dir" 2>/dev/null || true
  rmdir "$dir" 2>/dev/null || true
}
trap finish EXIT

cp /bin/true "$dir/game"
"$wardctl" keygen --out-dir "$dir/keys" >/dev/null
policy() {  # policy <version> <rules json>: writes the signed bundle the agent reads
  cat >"$dir/policy.json" <<JSON
{"version": $1, "issued_at": "2026-09-01T08:00:00Z", "mode": "MODE_ENFORCE", "name": "demo",
 "audience": "AUDIENCE_ADULT", "aup": {"version": 1, "title": "Using this laptop", "text_adult": "Be kind and safe."},
 "usb": {"default_action": "USB_ACTION_BLOCK"},
 "apps": {"default_action": "APP_ACTION_BLOCK",
          "default_message": "This program isn't allowed on this laptop. Ask IT if you need it.",
          "rules": [$2]}}
JSON
  "$wardctl" policy sign "$dir/policy.json" --key "$dir/keys/ward-policy.key" --out "$dir/policy.bundle.new" >/dev/null
  mv "$dir/policy.bundle.new" "$dir/policy.bundle"
}
policy 1 ""
cat >"$dir/agent.conf" <<CONF
policy_bundle = $dir/policy.bundle
policy_key = $dir/keys/ward-policy.pub
state_dir = $dir/state
ipc = off
status_file = $dir/agent.status
store = off
usb = off
settings = off
exec_mounts = $dir
exec_loaders =
CONF

"$agent" --check-config --config "$dir/agent.conf"
"$agent" --config "$dir/agent.conf" 2>"$dir/agent.log" &
agent_pid=$!
for _ in $(seq 100); do grep -q state=running "$dir/agent.status" 2>/dev/null && break; sleep 0.05; done
"$agent" status --config "$dir/agent.conf"

echo "-- policy 1: only listed programs may run; 'game' is not listed"
if "$dir/game"; then echo "game ran (unexpected)"; exit 1; else echo "game was refused (exit $?)"; fi

echo "-- policy 2 (signed) allows game by its sha256; SIGHUP reloads"
policy 2 "{\"id\": \"allow-game\", \"action\": \"APP_ACTION_ALLOW\", \"sha256\": \"$(sha256sum "$dir/game" | cut -d' ' -f1)\"}"
kill -HUP "$agent_pid"
for _ in $(seq 100); do grep -q "policy 2" "$dir/agent.status" && break; sleep 0.05; done
if "$dir/game"; then echo "game ran"; else echo "game refused (unexpected)"; exit 1; fi

kill -TERM "$agent_pid"; wait "$agent_pid"; echo "ward-agent stopped cleanly (exit $?)"
agent_pid=
echo "-- what it recorded:"
# Log values are escaped JSON: drop the backslash-quotes to show "decision:...,path:...".
grep -o 'decision[^,]*,[^,]*path[^,]*' "$dir/agent.log" | sed 's/\\"//g' || true
