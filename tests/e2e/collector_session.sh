# SPDX-License-Identifier: Apache-2.0
# Sourced by the end-to-end scripts that run a real ward-collector and ward-agent on this machine
# (tests/e2e/tray_concern_e2e.sh, tests/console/run.sh): a work directory that goes away with
# every process started into `pids` (stopped by PID, newest first), logs shown on failure, a
# collector on a free port of 127.0.0.1, and an agent with its socket (enforcers off).
#   e2e_begin <name>              sets work, pids, keep_logs (set it to 0 once passed); fail, step
#   start_collector <data dir> <log> [--key value...]   serves on a free port; sets port
#   start_group_collector <group> sample-under18 signed with a new key ($work/keys,
#                                 $work/policy.bundle), a collector in $cdir serving it on a
#                                 free port with that group; sets url, cdir, port
#   start_agent <collector url> <ca> <secret file> <bundle> <public key>
#                                 writes $work/agent.conf, starts it; sets socket
#   start_postgres <ward_console_fixture> <db,db...>
#                                 a throwaway PostgreSQL; sets pg_conninfo (one per database)
# Needs: collector and agent (paths of the binaries; wardctl and src for start_group_collector).

e2e_begin() {
  e2e_name=$1
  work=$(mktemp -d -t "ward-$e2e_name.XXXXXX")
  chmod 0755 "$work"
  pids=()
  keep_logs=1
  trap e2e_cleanup EXIT
}

e2e_cleanup() {
  local i log
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do kill "${pids[i]}" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  if ((keep_logs)); then
    echo "$e2e_name: failed; logs:" >&2
    for log in "$work"/*.log "$work"/*.out; do
      [[ -s $log ]] || continue
      echo "---- ${log##*/} (last 40 lines)" >&2
      tail -n 40 "$log" >&2
    done
  fi
  rm -rf "$work"
}

fail() {
  echo "$e2e_name: $*" >&2
  exit 1
}

step() { printf -- '-- %s\n' "$*"; }

start_collector() {
  local dir=$1 log=$2 attempt pid
  shift 2
  for attempt in 1 2 3 4 5; do
    port=$((20000 + RANDOM % 40000))
    "$collector" --data-dir "$dir" --listen "127.0.0.1:$port" "$@" >"$log" 2>&1 &
    pid=$!
    for _ in $(seq 100); do
      if curl -fsS --cacert "$dir/ca.pem" "https://127.0.0.1:$port/healthz" >/dev/null 2>&1; then
        pids+=("$pid")
        return 0
      fi
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    echo "port $port was not usable (attempt $attempt)"
  done
  fail "the collector in $dir would not start"
}

start_group_collector() {
  local group=$1
  "$wardctl" keygen --out-dir "$work/keys" >/dev/null
  "$wardctl" policy sign "$src/tests/testdata/policy/sample-under18.json" \
    --key "$work/keys/ward-policy.key" --out "$work/policy.bundle" >/dev/null
  cdir=$work/collector
  "$collector" init --data-dir "$cdir" --host 127.0.0.1 >/dev/null
  start_collector "$cdir" "$work/collector.log" --log-level info
  url=https://127.0.0.1:$port
  "$collector" add-group --data-dir "$cdir" --name "$group" \
    --pubkey-file "$work/keys/ward-policy.pub" >/dev/null
}

start_agent() {
  local url=$1 ca=$2 secret=$3 bundle=$4 pubkey=$5
  mkdir -p "$work/agent"
  cat >"$work/agent.conf" <<CONF
policy_bundle = $bundle
policy_key = $pubkey
state_dir = $work/agent/state
status_file = $work/agent/agent.status
ipc_socket = $work/agent/run/agent.sock
usb = off
exec = off
settings = off
collector_url = $url
collector_ca = $ca
enrolment_secret_file = $secret
CONF
  chmod 0644 "$work/agent.conf"
  "$agent" --check-config --config "$work/agent.conf" >/dev/null
  "$agent" --config "$work/agent.conf" 2>"$work/agent.log" &
  pids+=($!)
  socket=$work/agent/run/agent.sock
  for _ in $(seq 200); do [[ -S $socket ]] && break; sleep 0.05; done
  [[ -S $socket ]] || fail "the agent's socket did not appear"
}

start_postgres() {
  local fixture=$1 databases=$2
  "$fixture" postgres --databases "$databases" >"$work/pg.out" 2>"$work/pg.log" &
  pids+=($!)
  for _ in $(seq 300); do grep -qx ready "$work/pg.out" 2>/dev/null && break; sleep 0.1; done
  grep -qx ready "$work/pg.out" || fail "PostgreSQL did not start"
  mapfile -t pg_conninfo < <(grep -vx ready "$work/pg.out")
}
