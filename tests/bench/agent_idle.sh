#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Idle memory and wake-ups of ward-agent in its real steady state, side by side with Debian's
# fapolicyd and usbguard-daemon, in one run (root only). Everything runs in a private mount
# namespace and a private network namespace (only its loopback is up): the host's /, /sys,
# /etc and network are never touched.
#   usage: tests/bench/agent_idle.sh <ward-agent> <wardctl> <ward-collector> [idle seconds]
# ward-agent runs twice, with the same configuration: a signed policy (sample-under18, its
# package rules removed) and then the same policy with package rules (allow by package
# `coreutils` and the sample's own), so the dpkg index shows. The configuration: encrypted
# store, IPC socket, exec enforcement on a ramfs only this namespace has, settings lock-down on
# a temporary root (real `dconf update`), no `exec_loaders` (the loader's inode is the host's:
# marking it would hold every exec on the machine), USB on a fake sysfs tree (a root hub and a keyboard;
# no uevents arrive in the private network namespace) and a live sync client enrolled with a
# real ward-collector (embedded store) on the namespace's loopback, policy pushed to it.
# After start-up, enrolment, one exec of an allowed program and WARD_BENCH_SETTLE seconds
# (default 3), it measures over the idle window: RSS, PSS, Private_Dirty and Shared_Clean
# (/proc/PID/smaps_rollup), voluntary + involuntary context switches summed over all threads
# (/proc/PID/task/*/status) and the largest mappings by RSS (/proc/PID/smaps, per file).
# fapolicyd and usbguard come from their .debs (`apt-get download` into $WARD_BENCH_CACHE,
# default /var/tmp/ward-bench-cache; never installed, so no service is enabled) and run from the
# extracted tree with /etc replaced by a copy and /run, /var/lib, /var/log by empty tmpfs
# mounts, as tests/bench/exec_cost.sh does. fapolicyd watches only the ramfs; usbguard sees
# the same fake sysfs tree bind-mounted on /sys (in this namespace only).
#   WARD_BENCH_SKIP="fapolicyd usbguard"   skip either of them
#   WARD_BENCH_STRACE=1       after each window, the system calls of a second one (strace -f)
#   WARD_BENCH_PRELOAD=LIB    one more ward-agent run (no package rules) with LIB in LD_PRELOAD,
#                             e.g. libsystemd.so.0: what linking a library costs at idle
set -euo pipefail
agent=$(realpath "${1:?usage: $0 <ward-agent> <wardctl> <ward-collector> [idle seconds]}")
wardctl=$(realpath "${2:?usage: $0 <ward-agent> <wardctl> <ward-collector> [idle seconds]}")
collector=$(realpath "${3:?usage: $0 <ward-agent> <wardctl> <ward-collector> [idle seconds]}")
idle=${4:-10}
settle=${WARD_BENCH_SETTLE:-3}
source_root=$(cd "$(dirname "$0")/../.." && pwd)
source "$source_root/tests/bench/daemon_bench_lib.sh"
if [[ $(id -u) -ne 0 ]]; then
  echo "agent_idle: run as root (fanotify, mount and network namespaces)" >&2
  exit 1
fi
if [[ "${WARD_BENCH_INNER:-}" != 1 ]]; then
  WARD_BENCH_INNER=1 exec unshare -m -n --propagation private "$0" "$agent" "$wardctl" "$collector" "$idle"
fi
ip link set lo up

dir=$(mktemp -d -t ward-idle.XXXXXX)
mount -t tmpfs -o mode=0755 ward-idle "$dir"
x=$dir/x # the only ramfs in this namespace: both daemons mark it
mkdir "$x"
if awk '$3 == "ramfs"' /proc/mounts | grep -q .; then
  echo "agent_idle: a ramfs is mounted already; fapolicyd would watch it too: not running" >&2
  exit 1
fi
mount -t ramfs ward-idle-x "$x"
pids=()
confined=
finish() {
  local p
  for p in "${pids[@]}"; do
    kill "$p" 2>/dev/null || true
    for _ in $(seq 200); do [[ -d /proc/$p ]] || break; sleep 0.05; done
    kill -KILL "$p" 2>/dev/null || true
  done
  # The namespace's own mounts go with it; the directory under the host's /tmp must not stay.
  if [[ -n "$confined" ]]; then
    for m in /sys /dev/shm /etc /run /var/lib /var/log; do umount -l "$m" 2>/dev/null || true; done
  fi
  umount "$x" 2>/dev/null || true
  umount "$dir" 2>/dev/null || true
  rmdir "$dir" 2>/dev/null || true
}
trap finish EXIT
cp /bin/true "$x/true"

# --- measurement helpers -----------------------------------------------------------------
# "TID NAME SWITCHES WAIT" per thread; WAIT is the system call it sleeps in, from
# /proc/TID/syscall (number and first arguments), so a timed wait shows its timeout.
thread_switches() {
  local t
  for t in /proc/"$1"/task/*; do
    printf '%s %s %s %s\n' "${t##*/}" "$(tr ' ' _ <"$t/comm")" \
      "$(awk '/ctxt_switches/ {s += $2} END {print s}' "$t/status")" \
      "$(awk '{n = $1; split("7:poll 23:select 35:nanosleep 202:futex 230:clock_nanosleep 232:epoll_wait 270:pselect6 271:ppoll 281:epoll_pwait 441:epoll_pwait2 0:read 45:recvfrom 47:recvmsg 61:wait4 247:waitid", m, " ")
        for (i in m) {split(m[i], kv, ":"); if (kv[1] == n) n = kv[2]}
        printf "%s(%s,%s,%s)", n, $2, $3, $4}' "$t/syscall")"
  done 2>/dev/null
}
# Which threads switched between two thread_switches snapshots: "NAME[TID] N in WAIT, ..."
# (threads are not named, so the TID tells them apart; the main thread's TID is the PID).
thread_deltas() {
  awk 'NR == FNR {before[$1] = $3; next}
    $3 - before[$1] > 0 {printf "%s[%s] %d %s\n", $2, $1, $3 - before[$1], $4}' "$1" "$2" |
    sort -k2 -rn | awk '{printf "%s%s %d in %s", (NR > 1 ? ", " : ""), $1, $2, $3} END {if (NR == 0) printf "none"; print ""}'
}
rollup() { awk -v k="$2" '$1 == k ":" {print $2}' /proc/"$1"/smaps_rollup; }
# The N largest mappings by RSS, summed per file ([heap], [anon] and [stack] by kind).
top_mappings() {
  awk '
    /^[0-9a-f]+-[0-9a-f]+ / {name = ($6 == "" ? "[anon]" : $6); sub(/.*\//, "", name); next}
    $1 == "Rss:" {rss[name] += $2}
    END {for (m in rss) if (rss[m] > 0) printf "%d %s\n", rss[m], m}' /proc/"$1"/smaps |
    sort -rn | head -n "${2:-6}" | awk '{printf "%s%s %d", (NR > 1 ? ", " : ""), $2, $1} END {print ""}'
}
rows=()
details=()
wakeups=()
traces=()
# measure LABEL PID: settles, then idles for the window; appends a table row and a detail line.
measure() {
  local label=$1 p=$2 before after threads
  sleep "$settle"
  thread_switches "$p" >"$dir/threads.before"
  before=$(switches "$p")
  sleep "$idle"
  after=$(switches "$p")
  thread_switches "$p" >"$dir/threads.after"
  threads=$(ls /proc/"$p"/task | wc -l)
  rows+=("$(printf '%-34s %8s %8s %8s %8s %7s %10s' "$label" "$(rollup "$p" Rss)" \
    "$(rollup "$p" Pss)" "$(rollup "$p" Private_Dirty)" "$(rollup "$p" Shared_Clean)" \
    "$threads" "$((after - before))")")
  details+=("$label: $(top_mappings "$p" 8)")
  if [[ "${WARD_BENCH_STRACE:-}" == 1 ]]; then
    # After the window, so the tracer's own switches are not counted above.
    timeout -s INT "$idle" strace -f -qq -o "$dir/strace" -p "$p" 2>/dev/null || true
    traces+=("$label: $(awk '{sub(/\(.*/, "", $2); n[$1 " " $2]++} END {for (k in n) print n[k], k}' \
      "$dir/strace" | sort -rn | head -8 | awk '{printf "%s[%s] %s %d", (NR > 1 ? ", " : ""), $2, $3, $1}')")
  fi
  wakeups+=("$label: $(thread_deltas "$dir/threads.before" "$dir/threads.after")")
}
stop() {
  local p=$1
  kill "$p" 2>/dev/null || true
  for _ in $(seq 400); do [[ -d /proc/$p ]] || break; sleep 0.05; done
  [[ ! -d /proc/$p ]] || kill -KILL "$p" 2>/dev/null || true
  local kept=()
  for q in "${pids[@]}"; do [[ "$q" == "$p" ]] || kept+=("$q"); done
  pids=("${kept[@]}")
}

# --- a fake sysfs: one root hub, one keyboard (attributes, uevent, descriptors) ------------
sys=$dir/sys
usb_device() { # NAME DIR VENDOR PRODUCT CLASS DESCRIPTORS-HEX PRODUCT-NAME BUSNUM DEVNUM
  local d=$2
  mkdir -p "$d"
  printf '%s\n' "$3" >"$d/idVendor"
  printf '%s\n' "$4" >"$d/idProduct"
  printf '%s\n' "$5" >"$d/bDeviceClass"
  printf '1\n' >"$d/authorized"
  : >"$d/remove"
  printf '1\n' >"$d/bConfigurationValue"
  printf '1\n' >"$d/bNumConfigurations"
  printf '%s\n' "$7" >"$d/product"
  printf '%d\n' "$8" >"$d/busnum"
  printf '%d\n' "$9" >"$d/devnum"
  printf 'DEVTYPE=usb_device\nDRIVER=usb\nPRODUCT=%x/%x/100\nTYPE=%d/0/0\nBUSNUM=%03d\nDEVNUM=%03d\n' \
    "0x$3" "0x$4" "0x$5" "$8" "$9" >"$d/uevent"
  printf "$(sed 's/../\\x&/g' <<<"$6")" >"$d/descriptors"
  ln -s "../../../devices/pci0000:00/0000:00:14.0/${d#*/0000:00:14.0/}" "$sys/bus/usb/devices/$1"
}
mkdir -p "$sys/bus/usb/devices" "$sys/devices/pci0000:00/0000:00:14.0"
printf 'DRIVER=xhci_hcd\nPCI_CLASS=C0330\nPCI_ID=8086:A36D\n' >"$sys/devices/pci0000:00/0000:00:14.0/uevent"
: >"$sys/devices/pci0000:00/uevent"
hub=$sys/devices/pci0000:00/0000:00:14.0/usb1
usb_device usb1 "$hub" 1d6b 0002 09 \
  12010002090001406b1d02000606030201010902190001010060000904000001090000000705810304000c \
  "xHCI Host Controller" 1 1
printf '1\n' >"$hub/authorized_default"
printf '1\n' >"$hub/interface_authorized_default"
usb_device 1-1 "$hub/1-1" 046d c31c 00 \
  12010002000000086d041cc30001010200010902220001010080320904000001030101000921100100012241000705810308000a \
  "USB Keyboard" 1 2
mkdir -p "$hub/1-1/port"
printf 'hotplug\n' >"$hub/1-1/port/connect_type"
iface=$hub/1-1/1-1:1.0
mkdir -p "$iface"
printf '00\n' >"$iface/bInterfaceNumber"
printf '03\n' >"$iface/bInterfaceClass"
printf '01\n' >"$iface/bInterfaceSubClass"
printf '01\n' >"$iface/bInterfaceProtocol"
printf '1\n' >"$iface/authorized"
printf 'DEVTYPE=usb_interface\nINTERFACE=3/1/1\n' >"$iface/uevent"
ln -s "../../../devices/pci0000:00/0000:00:14.0/usb1/1-1/1-1:1.0" "$sys/bus/usb/devices/1-1:1.0"

# --- ward-agent: keys, signed policies, a collector, the agent ------------------------------
"$wardctl" keygen --out-dir "$dir/keys" >/dev/null
sample=$source_root/tests/testdata/policy/sample-under18.json
sha=$(sha256sum "$x/true" | cut -d' ' -f1)
allow_true='{"id": "allow-bench-true", "action": "APP_ACTION_ALLOW", "sha256": "'"$sha"'"}'
jq --argjson t "$allow_true" '.apps.rules = ([.apps.rules[] | select(has("package") | not)] + [$t])' \
  "$sample" >"$dir/policy-plain.json"
jq --argjson t "$allow_true" \
  '.apps.rules += [$t, {"id": "allow-coreutils", "action": "APP_ACTION_ALLOW", "package": "coreutils"}]' \
  "$sample" >"$dir/policy-packages.json"
for p in plain packages; do
  "$wardctl" policy sign "$dir/policy-$p.json" --key "$dir/keys/ward-policy.key" \
    --out "$dir/policy-$p.bundle" >/dev/null
done
head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$dir/machine-id"

# run_ward LABEL POLICY [PRELOAD]: a fresh collector and agent state, measured, then both
# stopped; PRELOAD is put in LD_PRELOAD for the agent.
run_ward() {
  local label=$1 policy=$2 preload=${3:-} run=$dir/run-$2${3:+-preload}
  mkdir -p "$run"
  "$collector" init --data-dir "$run/collector" --host 127.0.0.1 --listen 127.0.0.1:8443 >/dev/null
  "$collector" --data-dir "$run/collector" --log-level warning 2>"$run/collector.log" &
  local collector_pid=$!
  pids+=("$collector_pid")
  for _ in $(seq 100); do
    curl -s --cacert "$run/collector/ca.pem" https://127.0.0.1:8443/healthz >/dev/null && break
    sleep 0.1
  done
  "$collector" add-group --data-dir "$run/collector" --name learners \
    --pubkey-file "$dir/keys/ward-policy.pub" >/dev/null
  "$collector" enrolment-secret --data-dir "$run/collector" --group learners >"$run/secret"
  chmod 0600 "$run/secret"
  local token
  token=$("$collector" token create --data-dir "$run/collector" --role it --name bench)
  "$wardctl" policy push "$dir/policy-$policy.bundle" --group learners \
    --collector https://127.0.0.1:8443 --ca "$run/collector/ca.pem" --token "$token" >/dev/null
  cp "$dir/policy-$policy.bundle" "$run/policy.bundle"
  mkdir -p "$run/settings"
  cat >"$run/agent.conf" <<CONF
policy_bundle = $run/policy.bundle
policy_key = $dir/keys/ward-policy.pub
state_dir = $run/state
status_file = $run/agent.status
ipc_socket = $run/sock/agent.sock
store = on
usb = on
sysfs_root = $sys
exec = on
exec_mounts = $x
exec_loaders =
packages = on
settings = on
settings_root = $run/settings
collector_url = https://127.0.0.1:8443
collector_ca = $run/collector/ca.pem
enrolment_secret_file = $run/secret
machine_id_file = $dir/machine-id
CONF
  "$agent" --check-config --config "$run/agent.conf" >/dev/null
  LD_PRELOAD=$preload "$agent" --config "$run/agent.conf" 2>"$run/agent.log" &
  local agent_pid=$!
  pids+=("$agent_pid")
  for _ in $(seq 600); do grep -q 'sync: enrolled' "$run/agent.log" && break; sleep 0.1; done
  grep -q 'sync: enrolled' "$run/agent.log" ||
    { echo "agent_idle: ward-agent did not enrol; its log:" >&2; cat "$run/agent.log" >&2; exit 1; }
  grep -q state=running "$run/agent.status" || { echo "agent_idle: ward-agent is not running" >&2; exit 1; }
  marked "$agent_pid" "$x" || { echo "agent_idle: ward-agent did not mark $x" >&2; exit 1; }
  [[ -S "$run/sock/agent.sock" ]] || { echo "agent_idle: no IPC socket" >&2; exit 1; }
  [[ -f "$run/settings/etc/dconf/db/ward" ]] || { echo "agent_idle: no compiled dconf database" >&2; exit 1; }
  "$x/true" || { echo "agent_idle: ward-agent refused the allowed program" >&2; exit 1; }
  measure "$label" "$agent_pid"
  summaries+=("$label: $(sed -n 's/^summary=//p' "$run/agent.status")")
  stop "$agent_pid"
  stop "$collector_pid"
}
summaries=()
notes=()
run_ward "ward-agent (no package rules)" plain
run_ward "ward-agent (package rules)" packages
if [[ -n "${WARD_BENCH_PRELOAD:-}" ]]; then
  run_ward "ward-agent (no pkg rules) +preload" plain "$WARD_BENCH_PRELOAD"
  notes+=("+preload: LD_PRELOAD=$WARD_BENCH_PRELOAD")
fi

# --- Debian's daemons, from their .debs, confined -------------------------------------------
skip=${WARD_BENCH_SKIP:-}
cache=${WARD_BENCH_CACHE:-/var/tmp/ward-bench-cache}
mkdir -p "$cache"
fetch() { # PACKAGE...: the .debs into the cache; prints nothing, fails with a reason on stderr
  local p
  for p in "$@"; do
    ls "$cache/${p}"_*.deb >/dev/null 2>&1 && continue
    (cd "$cache" && apt-get download "$p" >"$cache/download-$p.log" 2>&1) ||
      { echo "apt-get download $p failed: $(tail -1 "$cache/download-$p.log")" >&2; return 1; }
  done
}
# /etc becomes a copy, /run /var/lib /var/log /dev/shm empty tmpfs mounts (once; after the
# ward-agent runs, which read the host's dpkg database under /var/lib).
confine() {
  [[ -z "$confined" ]] || return 0
  confined=1
  mkdir "$dir/etc"
  cp -a /etc/. "$dir/etc/"
  mount --bind "$dir/etc" /etc
  for d in /run /var/lib /var/log /dev/shm; do mount -t tmpfs ward-idle-confined "$d"; done
}

if [[ " $skip " == *" fapolicyd "* ]]; then
  notes+=("fapolicyd: skipped (WARD_BENCH_SKIP)")
elif ! reason=$(fetch fapolicyd 2>&1); then
  notes+=("fapolicyd: not measured: $reason")
else
  fap=$dir/fapolicyd
  dpkg -x "$(ls "$cache"/fapolicyd_*.deb | tail -1)" "$fap"
  if ldd "$fap/usr/sbin/fapolicyd" | grep -q 'not found'; then
    notes+=("fapolicyd: not measured: its libraries are missing (scripts/setup-debian.sh)")
  else
    confine
    fapolicyd_config "$fap" "$x/true" "$sha"
    "$fap/usr/sbin/fapolicyd" --permissive 2>/dev/null
    for _ in $(seq 600); do [[ -s /run/fapolicyd.pid ]] && break; sleep 0.05; done
    fap_pid=$(cat /run/fapolicyd.pid)
    pids+=("$fap_pid")
    for _ in $(seq 600); do marked "$fap_pid" "$x" && break; sleep 0.05; done
    marked "$fap_pid" "$x" || { echo "agent_idle: fapolicyd did not mark $x" >&2; exit 1; }
    "$x/true"
    measure "fapolicyd $(dpkg-deb -f "$(ls "$cache"/fapolicyd_*.deb | tail -1)" Version)" "$fap_pid"
    stop "$fap_pid"
  fi
fi

if [[ " $skip " == *" usbguard "* ]]; then
  notes+=("usbguard: skipped (WARD_BENCH_SKIP)")
elif ! reason=$(fetch usbguard libusbguard1 libqb100 2>&1); then
  notes+=("usbguard: not measured: $reason")
else
  ug=$dir/usbguard
  for p in usbguard libusbguard1 libqb100; do dpkg -x "$(ls "$cache/${p}"_*.deb | tail -1)" "$ug"; done
  ug_lib=$ug/usr/lib/x86_64-linux-gnu
  if LD_LIBRARY_PATH=$ug_lib ldd "$ug/usr/sbin/usbguard-daemon" | grep -q 'not found'; then
    notes+=("usbguard: not measured: libraries missing: $(LD_LIBRARY_PATH=$ug_lib ldd "$ug/usr/sbin/usbguard-daemon" | awk '/not found/ {print $1}' | tr '\n' ' ')")
  else
    confine
    mount --bind "$sys" /sys # this namespace's /sys only: usbguard reads and writes the fake tree
    mkdir -p /etc/usbguard /var/log/usbguard
    # One allow rule for the keyboard, as `usbguard generate-policy` would write; block the rest.
    printf '%s\n' 'allow id 1d6b:0002' 'allow id 046d:c31c with-interface 03:01:01' >/etc/usbguard/rules.conf
    chmod 0600 /etc/usbguard/rules.conf
    cat >/etc/usbguard/usbguard-daemon.conf <<CONF
RuleFile=/etc/usbguard/rules.conf
ImplicitPolicyTarget=block
PresentDevicePolicy=apply-policy
PresentControllerPolicy=keep
InsertedDevicePolicy=apply-policy
RestoreControllerDeviceState=false
DeviceManagerBackend=uevent
IPCAllowedUsers=root
IPCAllowedGroups=
DeviceRulesWithPort=false
AuditBackend=FileAudit
AuditFilePath=/var/log/usbguard/usbguard-audit.log
CONF
    chmod 0600 /etc/usbguard/usbguard-daemon.conf
    LD_LIBRARY_PATH=$ug_lib "$ug/usr/sbin/usbguard-daemon" -k -c /etc/usbguard/usbguard-daemon.conf \
      >"$dir/usbguard.log" 2>&1 &
    ug_pid=$!
    pids+=("$ug_pid")
    listed=
    for _ in $(seq 100); do
      listed=$(LD_LIBRARY_PATH=$ug_lib "$ug/usr/bin/usbguard" list-devices 2>/dev/null) && break
      [[ -d /proc/$ug_pid ]] || break
      sleep 0.1
    done
    if [[ -d /proc/$ug_pid ]] && grep -q '046d:c31c' <<<"$listed"; then
      measure "usbguard-daemon $(dpkg-deb -f "$(ls "$cache"/usbguard_*.deb | tail -1)" Version)" "$ug_pid"
      notes+=("usbguard sees the fake tree: $(grep -c . <<<"$listed") devices, $(grep -c '^[0-9]*: allow' <<<"$listed") allowed")
      stop "$ug_pid"
    else
      notes+=("usbguard: not measured: $( [[ -d /proc/$ug_pid ]] && echo "it did not list the fake devices" || echo "the daemon exited"): $(tail -3 "$dir/usbguard.log" | tr '\n' ' ')")
    fi
  fi
fi

# --- the table ------------------------------------------------------------------------------
echo "idle window ${idle} s after ${settle} s settling and one exec; kB from smaps_rollup; load $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-34s %8s %8s %8s %8s %7s %10s\n' "" RSS PSS Priv_Dty Shr_Cln threads "switches"
printf '%s\n' "${rows[@]}"
echo "largest mappings by RSS (kB, per file):"
printf '  %s\n' "${details[@]}"
echo "context switches in the window, by thread:"
printf '  %s\n' "${wakeups[@]}"
[[ ${#traces[@]} -eq 0 ]] || { echo "system calls in a second window (strace -f), by thread:"; printf '  %s\n' "${traces[@]}"; }
[[ ${#summaries[@]} -eq 0 ]] || { echo "agent summaries:"; printf '  %s\n' "${summaries[@]}"; }
[[ ${#notes[@]} -eq 0 ]] || printf '%s\n' "${notes[@]}"
