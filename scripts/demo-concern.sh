#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# "Report a concern" through the agent's socket. ward-agent runs with the signed policy, its
# encrypted store and its socket in a temporary directory (enforcers off: nothing on this
# machine is touched); `ward-agent concern`, built on the same IPC client library as the tray,
# sends a report. Run as root, the report is sent as the existing user nobody (uid 65534): the
# agent names the sender from the kernel (SO_PEERCRED), not from anything the client says.
# With a collector (URL, its CA, an enrolment secret file), the agent enrols and the concern is
# uploaded at once; the script waits until the learner's tray would hear "received".
#   usage: scripts/demo-concern.sh <path to ward-agent> <signed policy bundle> <public key>
#          [<collector url> <collector ca> <enrolment secret file>]
set -euo pipefail
agent=${1:?usage: $0 <ward-agent> <bundle> <public key>}
bundle=${2:?usage: $0 <ward-agent> <bundle> <public key>}
pubkey=${3:?usage: $0 <ward-agent> <bundle> <public key>}
collector_url=${4:-}
collector_ca=${5:-}
secret_file=${6:-}

dir=$(mktemp -d -t ward-concern.XXXXXX)
chmod 0755 "$dir"
agent_pid=
finish() {
  if [[ -n "$agent_pid" ]]; then kill "$agent_pid" 2>/dev/null || true; wait "$agent_pid" 2>/dev/null || true; fi
  rm -rf "$dir"
}
trap finish EXIT

cp "$bundle" "$dir/policy.bundle"
cp "$pubkey" "$dir/policy.pub"
cat >"$dir/agent.conf" <<CONF
policy_bundle = $dir/policy.bundle
policy_key = $dir/policy.pub
state_dir = $dir/state
status_file = $dir/agent.status
ipc_socket = $dir/run/agent.sock
usb = off
exec = off
settings = off
CONF
if [[ -n "$collector_url" ]]; then
  cat >>"$dir/agent.conf" <<CONF
collector_url = $collector_url
collector_ca = $collector_ca
enrolment_secret_file = $secret_file
CONF
fi
chmod 0644 "$dir/agent.conf"

"$agent" --check-config --config "$dir/agent.conf"
"$agent" --config "$dir/agent.conf" 2>"$dir/agent.log" &
agent_pid=$!
for _ in $(seq 200); do [[ -S "$dir/run/agent.sock" ]] && break; sleep 0.05; done
"$agent" status --config "$dir/agent.conf"

as_learner=()
if [[ $(id -u) -eq 0 ]] && getent passwd 65534 >/dev/null; then
  as_learner=(setpriv --reuid=65534 --regid=65534 --clear-groups)
fi
learner=$("${as_learner[@]}" id -un)
echo "-- $learner reports a concern through the socket"
"${as_learner[@]}" "$agent" concern --config "$dir/agent.conf" --category bullying \
  --text "Someone in my group chat keeps posting mean things about me."

echo "-- an attachment that is not a PNG is refused, kindly, and nothing is stored"
printf 'not a picture' >"$dir/shot.png"
chmod 0644 "$dir/shot.png"
if "${as_learner[@]}" "$agent" concern --config "$dir/agent.conf" --category other \
  --text "see the picture" --screenshot "$dir/shot.png" 2>&1; then
  echo "demo: a non-PNG screenshot was accepted" >&2
  exit 1
fi

if [[ -n "$collector_url" ]]; then
  echo "-- the collector stores it and the agent hears back (the tray would say \"received\")"
  for _ in $(seq 600); do grep -q 'concern received by the collector' "$dir/agent.log" && break; sleep 0.1; done
  # Not fatal here: demo.sh checks the collector's inbox itself.
  grep 'concern received by the collector' "$dir/agent.log" ||
    { echo "demo: the agent has not heard back from the collector yet; its sync log:" >&2; grep 'sync' "$dir/agent.log" >&2 || true; }
fi

kill -TERM "$agent_pid"; wait "$agent_pid"; agent_pid=
echo "-- the agent stored it (CRITICAL, durable before the answer):"
grep 'concern stored' "$dir/agent.log"
