#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# ward-agent.service under a real systemd: Debian's kernel boots under QEMU (TCG) into this
# machine's own root filesystem (shared read-only over 9p, a tmpfs overlay on top) with the
# host's /lib/systemd/systemd as PID 1. The overlay adds the unit from installer/debian as it
# ships, the ward-agent built here, a signed policy and a config. In the guest,
# systemd_checks.sh (as ward-e2e.service) starts, reloads, stalls, crashes and stops the
# service and records what it sees; this script asserts every observation.
#   usage: systemd_e2e.sh <ward-agent> <wardctl> <cache dir>
# WARD_E2E_KEEP=1 keeps the work directory (console, facts, journal); WARD_E2E_APPEND adds to
# the guest kernel command line (e.g. systemd.log_level=debug); WARD_E2E_TIMEOUT (s, 480).
# The kernel .deb comes from Debian's archive through apt (cached under <cache dir>). When it
# cannot be had, the test fails under WARD_REQUIRE_ROOT_TESTS=1 and skips (exit 77) otherwise.
set -euo pipefail
usage="usage: $0 <ward-agent> <wardctl> <cache dir>"
agent=$(readlink -f "${1:?$usage}")
wardctl=$(readlink -f "${2:?$usage}")
cache=${3:?$usage}
here=$(cd "$(dirname "$0")" && pwd)
source_root=$(cd "$here/../../.." && pwd)
mkdir -p "$cache"
cache=$(cd "$cache" && pwd)

# shellcheck source=common.sh
source "$here/common.sh"
e2e_require qemu-system-x86_64 systemd-analyze
[[ -x /lib/systemd/systemd ]] || unavailable "systemd is not installed (scripts/setup-debian.sh)"
[[ $(id -u) == 0 ]] || unavailable "needs root (QEMU shares / and must read all of it)"
busybox=/bin/busybox
[[ -x "$agent" ]] || { echo "FAIL: no ward-agent at $agent" >&2; exit 1; }
[[ -x "$wardctl" ]] || { echo "FAIL: no wardctl at $wardctl" >&2; exit 1; }
e2e_kernel "$cache"

e2e_workdir ward-systemd-e2e

# --- What the overlay adds to the host's root: Ward's files and the test units. --------------
seed=$work/initramfs/seed
mkdir -p "$seed"/{usr/sbin,etc/ward,etc/systemd/system,usr/local/libexec/ward-e2e}
install -m 0755 "$agent" "$seed/usr/sbin/ward-agent"
install -m 0644 "$source_root/installer/debian/ward-agent.service" "$seed/etc/systemd/system/"
install -m 0644 "$here"/systemd/ward-e2e.{target,service} "$seed/etc/systemd/system/"
install -m 0644 "$here/systemd_checks.sh" "$seed/usr/local/libexec/ward-e2e/"
e2e_seed_systemd_guest "$seed"
# Only the test's tmpfs is marked for exec checks (never the guest's root: the checks stop the
# agent with SIGSTOP, and every exec on a marked filesystem would wait for it). The loader is
# not marked for the same reason.
cat >"$seed/etc/ward/agent.conf" <<'CONF'
policy_bundle = /etc/ward/policy.bundle
policy_key = /etc/ward/policy.pub
exec_mounts = /srv/ward-exec
exec_loaders =
CONF
# Policy 1 allows allowed-tool only; policy 2 (the reload) also blocked-tool. Both lock a dconf
# key and deny software installation through polkit, so the settings enforcer writes under /etc.
policy() { # policy VERSION RULES...
  local version=$1 rules="" tool
  shift
  for tool in "$@"; do
    rules+="${rules:+, }{\"id\": \"allow-$tool\", \"action\": \"APP_ACTION_ALLOW\", \"path\": \"/srv/ward-exec/$tool\"}"
  done
  cat <<JSON
{"version": $version, "issued_at": "2026-09-0${version}T08:00:00Z", "mode": "MODE_ENFORCE",
 "name": "systemd-e2e", "audience": "AUDIENCE_ADULT",
 "aup": {"version": 1, "title": "t", "text_adult": "Be kind."},
 "usb": {"default_action": "USB_ACTION_BLOCK"},
 "apps": {"default_action": "APP_ACTION_BLOCK", "rules": [$rules]},
 "settings": {"settings": [
   {"name": "desktop.wallpaper", "string_value": "/usr/share/backgrounds/college.png", "locked": true},
   {"name": "software.install", "bool_value": false, "locked": true}]}}
JSON
}
"$wardctl" keygen --out-dir "$work/keys" >/dev/null
policy 1 allowed-tool >"$work/policy-v1.json"
policy 2 allowed-tool blocked-tool >"$work/policy-v2.json"
for v in 1 2; do
  "$wardctl" policy sign "$work/policy-v$v.json" --key "$work/keys/ward-policy.key" \
    --out "$work/policy-v$v.bundle" >/dev/null
done
install -m 0644 "$work/keys/ward-policy.pub" "$seed/etc/ward/policy.pub"
install -m 0644 "$work/policy-v1.bundle" "$seed/etc/ward/policy.bundle"
install -m 0644 "$work/policy-v2.bundle" "$seed/etc/ward/policy-v2.bundle"

# --- The initramfs: busybox, the modules, /init. ----------------------------------------------
stage=$work/initramfs
mkdir -p "$stage"/{bin,lib/modules,etc,proc,sys,dev}
cp "$busybox" "$stage/bin/busybox"
# xhci: USB root hubs, whose authorized_default the agent sets.
e2e_modules virtio_pci 9p 9pnet_virtio overlay xhci_pci >"$stage/etc/modules.order"
while read -r module; do cp "$KDIR/modules/$module" "$stage/lib/modules/"; done <"$stage/etc/modules.order"
install -m 0755 "$here/systemd_guest_init.sh" "$stage/init"
(cd "$stage" && find . | "$busybox" cpio -o -H newc 2>/dev/null) >"$work/initrd.cpio"

# --- Boot and wait for the checks to power the guest off. -------------------------------------
results=$work/results
mkdir -p "$results"
console=$work/console.log
: >"$console"
e2e_qemu "$console" "systemd.unit=ward-e2e.target systemd.show_status=0 ${WARD_E2E_APPEND:-}" \
  -m 1024 -smp 2 \
  -virtfs "local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap" \
  -virtfs "local,path=$results,mount_tag=results,security_model=none"
started=$(date +%s.%N)
elapsed() { awk -v a="$started" -v b="$(date +%s.%N)" 'BEGIN {printf "%.1f", b - a}'; }

show_and_fail() {
  echo "FAIL: $*" >&2
  [[ -s "$results/journal.txt" ]] && grep -E 'ward-agent|ward-e2e' "$results/journal.txt" | tail -60 >&2
  [[ -s "$results/facts" ]] && cat "$results/facts" >&2
  tail -40 "$console" >&2
  cat "$work/qemu.log" >&2
  exit 1
}
e2e_wait_guest "$console" "${WARD_E2E_TIMEOUT:-480}" show_and_fail
echo "guest ran and powered off after $(elapsed) s"
grep -q '^done ' "$results/facts" 2>/dev/null || show_and_fail "the checks did not finish"

# --- Assertions over what the guest saw (facts) and what the journal recorded. ----------------
journal=$results/journal.txt
failures=0
fact() { awk -v k="$1" '$1 == k {sub(/^[^ ]+ ?/, ""); print; exit}' "$results/facts"; }
check() { # check DESCRIPTION COMMAND...
  local what=$1
  shift
  if "$@"; then
    echo "  ok    $what"
  else
    echo "  FAIL  $what" >&2
    failures=$((failures + 1))
  fi
}
is() { [[ "$(fact "$1")" == "$2" ]] || { echo "        $1 is '$(fact "$1")', expected '$2'" >&2; return 1; }; }
isnt() { [[ "$(fact "$1")" != "$2" ]] || { echo "        $1 is '$2'" >&2; return 1; }; }
matches() { [[ "$(fact "$1")" =~ $2 ]] || { echo "        $1 is '$(fact "$1")', expected /$2/" >&2; return 1; }; }
same() { [[ "$(fact "$1")" == "$(fact "$2")" ]] || { echo "        $1 is '$(fact "$1")', $2 is '$(fact "$2")'" >&2; return 1; }; }
differ() { [[ "$(fact "$1")" != "$(fact "$2")" ]] || { echo "        $1 and $2 are both '$(fact "$1")'" >&2; return 1; }; }
below() { awk -v v="$(fact "$1")" -v m="$2" 'BEGIN {exit !(v != "" && v + 0 < m + 0)}' || { echo "        $1 is '$(fact "$1")', expected < $2" >&2; return 1; }; }
between() { awk -v v="$(fact "$1")" -v a="$2" -v b="$3" 'BEGIN {exit !(v != "" && v + 0 >= a && v + 0 <= b)}' || { echo "        $1 is '$(fact "$1")', expected $2..$3" >&2; return 1; }; }
hubs_at() { # hubs_at PREFIX VALUE: every root hub's authorized_default is VALUE
  local n
  n=$(grep -c "^$1\.authorized_default\.usb[0-9]* " "$results/facts" || true)
  ((n > 0)) || { echo "        no root hubs seen" >&2; return 1; }
  ! grep "^$1\.authorized_default\.usb[0-9]* " "$results/facts" | grep -v " $2\$" >&2
}
# The journal of STEP: from the checks' "step STEP" mark to the next mark.
section() { awk -v step="$1" '/ward-e2e(\[[0-9]+\])?: step / {inside = ($NF == step); next} inside' "$journal"; }
# logged_in_order STEP REGEX...: lines of STEP's journal matching each extended regex, in order.
logged_in_order() {
  local step=$1 text pattern
  shift
  text=$(section "$step")
  for pattern in "$@"; do
    text=$(re=$pattern awk 'found {print} !found && $0 ~ ENVIRON["re"] {found = 1; print "MATCHED"}' <<<"$text")
    [[ "$text" == MATCHED* ]] || { echo "        step '$step': no line /$pattern/ (in order)" >&2; return 1; }
  done
}
# first_before STEP A B: in STEP's journal, the first line matching A comes before any matching B.
first_before() {
  section "$1" | a=$2 b=$3 awk '$0 ~ ENVIRON["a"] {r = 0; exit} $0 ~ ENVIRON["b"] {r = 1; exit} END {exit r == "" ? 1 : r}' ||
    { echo "        step '$1': /$3/ before /$2/" >&2; return 1; }
}
# count_logged STEP REGEX: how many lines of STEP's journal match.
count_logged() { section "$1" | re=$2 awk '$0 ~ ENVIRON["re"] {n++} END {print n + 0}'; }
no_agent_warnings() { # no warning or error from the agent from its start to the stall
  local n
  n=$(($(count_logged start 'ward-agent\[[0-9]+\]: level=(warning|error)') +
    $(count_logged job 'ward-agent\[[0-9]+\]: level=(warning|error)') +
    $(count_logged reload 'ward-agent\[[0-9]+\]: level=(warning|error)')))
  ((n == 0)) || { grep -E 'ward-agent\[[0-9]+\]: level=(warning|error)' "$journal" | head -5 >&2; return 1; }
}
unit='systemd\[1\]: ward-agent\.service: '
pid() { fact "$1"; }

echo "systemd: $(fact boot.systemd); the guest reached the checks $(fact boot.uptime) s after boot"
echo "start (Type=notify):"
check "the agent's unit is the shipped one" is start.FragmentPath /etc/systemd/system/ward-agent.service
check "without the agent, programs on the test tmpfs run" is before.blocked-tool 0
check "systemctl start succeeds" is start.rc 0
check "active (running)" is start.ActiveState active
check "sub-state running" is start.SubState running
check "Type=notify" is start.Type notify
check "NotifyAccess=main" is start.NotifyAccess main
check "Restart=always" is start.Restart always
check "WatchdogUSec=30s" is start.WatchdogUSec 30s
check "TimeoutStopUSec=20s" is start.TimeoutStopUSec 20s
check "NRestarts=0" is start.NRestarts 0
check "MainPID is the agent" same start.MainPID start.pidof
check "STATUS= (sent with READY=1) is the agent's summary, nothing degraded" matches start.StatusText '^policy 1 \(enforce\); usb on; exec on; packages on; store on; settings on; ipc on'
check "PID 1: start-pre -> start, READY=1 from the main PID, then start -> running" \
  logged_in_order start "${unit}Changed start-pre -> start" \
  "${unit}Got notification message from PID $(pid start.MainPID) \(READY=1, STATUS=policy 1 " \
  "${unit}Changed start -> running" "Started ward-agent\.service"
check "not running before READY=1" \
  first_before start "${unit}Got notification message from PID [0-9]+ \(READY=1" "${unit}Changed [a-z-]+ -> running"
echo "the hardened unit lets the agent work:"
check "StateDirectory is private (0700 root)" is job.state_dir "700 root"
check "store key created 0600, 32 bytes" is job.store_key "600 root 32"
check "store file written" matches job.store_db_size '^[1-9][0-9]*$'
check "store file is encrypted (no 'SQLite format 3' header)" isnt job.store_db_header "SQLite format 3"
check "policy kept in force in the state directory" matches job.policy_in_force '^[1-9][0-9]*$'
check "IPC socket in RuntimeDirectory" is job.ipc_socket "socket 666 root"
check "status file says running" is job.status_file state=running
check "ward-agent status exits 0" is job.status_rc 0
check "USB root hubs at authorized_default=0 (sysfs written through ReadWritePaths)" hubs_at job 0
check "fanotify: the allowed program runs" is job.allowed-tool 0
check "fanotify: the blocked program is refused (EPERM, shell 126)" is job.blocked-tool 126
check "settings: dconf database compiled (dconf update ran)" matches job.dconf_db '^[1-9][0-9]*$'
check "settings: dconf locks written" matches job.dconf_locks 'picture-uri'
check "settings: polkit rule written (polkitd's 0700 rules.d)" matches job.polkit_rules '^[1-9][0-9]*$'
check "settings: a deleted polkit rule is put back (inotify, drift revert)" matches job.drift_reverted '^[1-9][0-9]*$'
check "no warning or error from the agent" no_agent_warnings
echo "reload (SIGHUP):"
check "systemctl reload succeeds" is reload.rc 0
check "PID 1: RELOADING=1, then READY=1 with policy 2, from the same PID" \
  logged_in_order reload "${unit}Got notification message from PID $(pid start.MainPID) \(RELOADING=1\)" \
  "${unit}Got notification message from PID $(pid start.MainPID) \(READY=1, STATUS=policy 2 "
# systemd 252's Type=notify ends the reload job when ExecReload (kill -HUP) exits, which can be
# before the agent's RELOADING=1 arrives (seen on a loaded machine): the job's end is not ordered.
check "PID 1: the reload job finished" logged_in_order reload "Reloaded ward-agent\.service"
check "the agent logged the new policy" \
  logged_in_order reload "ward-agent\[$(pid start.MainPID)\]: level=info msg=\"policy applied\" status=\"policy 2 "
check "STATUS= shows policy 2" matches reload.StatusText '^policy 2 \(enforce\)'
check "same PID after reload" same reload.MainPID start.MainPID
check "no restart" is reload.NRestarts 0
check "policy 2 in force: blocked-tool now runs" is reload.blocked-tool 0
check "programs policy 2 does not allow are still refused" is reload.pending-tool 126
echo "watchdog:"
check "pinged at about half of WatchdogSec (10-20 s apart)" between watchdog.ping_interval_us 10000000 20000000
check "a stalled (SIGSTOP) agent: watchdog timeout, SIGABRT, result 'watchdog', restart" \
  logged_in_order stall "${unit}Watchdog timeout \(limit 30s\)!" \
  "${unit}Killing process $(pid stall.pid_before) \(ward-agent\) with signal SIGABRT" \
  "${unit}Main process exited, code=killed, status=6/ABRT" \
  "${unit}Failed with result 'watchdog'" "${unit}Scheduled restart job, restart counter is at 1" \
  "Started ward-agent\.service"
check "NRestarts=1" is stall.NRestarts 1
check "a new process" differ stall.pid_before stall.MainPID
check "active (running) again" is stall.SubState running
check "within WatchdogSec plus a restart (< 90 s)" below stall.seconds 90
check "enforcing again after the restart" is stall.blocked-tool 0
echo "crash (SIGSEGV):"
check "PID 1: exited on SIGSEGV, failed, restarted" \
  logged_in_order crash "${unit}Main process exited, code=(killed|dumped), status=11/SEGV" \
  "${unit}Failed with result '(signal|core-dump)'" \
  "${unit}Scheduled restart job, restart counter is at 2" "Started ward-agent\.service"
check "NRestarts=2" is crash.NRestarts 2
check "a new process" differ crash.pid_before crash.MainPID
check "active (running) again" is crash.SubState running
check "the store opens again with the same key, nothing degraded" matches crash.StatusText 'store on; settings on; ipc on'
check "store key unchanged" is crash.store_key_same yes
echo "stop (SIGTERM):"
check "allowed-tool runs under the restarted agent" is stop.allowed-tool-before 0
check "then the kernel runs it without the (stopped) agent: it remembers the allowance" is stop.remembered-tool 0
check "at once (not after a timeout)" below stop.remembered-seconds 5
check "an exec was held in the kernel for the (stopped) agent when stop began" is stop.held_waiting yes
check "systemctl stop succeeds" is stop.rc 0
check "the held exec was answered (it did not hang)" matches stop.held-tool '^(0|126)$'
check "within TimeoutStopSec (20 s)" below stop.seconds 20
check "STOPPING=1, then exit status 0, then deactivated" \
  logged_in_order stop "ward-agent\[$(pid stop.pid_before)\]: level=info msg=stopping signal=15" \
  "${unit}Got notification message from PID $(pid stop.pid_before) \(STOPPING=1\)" \
  "${unit}Main process exited, code=exited, status=0/SUCCESS" "${unit}Deactivated successfully"
check "the process is gone" is stop.pid_gone yes
check "inactive (dead)" is stop.SubState dead
check "nothing is held once the agent is stopped" is stop.blocked-tool 0
check "root hubs stay at authorized_default=0 (fail closed)" hubs_at stop 0
echo "USB not loaded yet when the unit starts:"
check "without usbcore, /sys/bus/usb is absent" is usblate.bus_before no
check "the unit starts (ExecStartPre=+modprobe usbcore)" is usblate.rc 0
check "active (running)" is usblate.SubState running
check "/sys/bus/usb exists for the agent" is usblate.bus_after yes
check "usb enforcement on" matches usblate.StatusText '; usb on; exec on; packages on; store on; settings on; ipc on'
echo "no USB at all (usbcore cannot be loaded):"
check "no /sys/bus/usb" is usbnone.bus_before no
check "the unit still starts (-/sys/bus/usb/drivers_probe is optional)" is usbnone.rc 0
check "active (running)" is usbnone.SubState running
check "exec, packages, store, settings, ipc on" matches usbnone.StatusText '; exec on; packages on; store on; settings on; ipc on'
echo "a failed start (broken bundle, no ExecStartPre):"
check "systemctl start reports the failure" matches broken.rc '^[1-9]'
check "the agent logged why and exited 1" \
  logged_in_order broken 'ward-agent\[[0-9]+\]: level=error msg="cannot start"' \
  "${unit}Main process exited, code=exited, status=1/FAILURE" "${unit}Failed with result 'exit-code'"
check "failed, result exit-code, status 1" is broken.Result exit-code
check "ExecMainStatus=1" is broken.ExecMainStatus 1
echo "exposure: systemd-analyze security in the guest (online): $(fact security)"
echo "timings (TCG): boot to checks $(fact boot.uptime) s; start $(fact start.seconds) s; stop $(fact stop.seconds) s; watchdog restart $(fact stall.seconds) s after SIGSTOP; crash restart $(fact crash.seconds) s; whole test $(elapsed) s"
if ((failures > 0)); then
  show_and_fail "$failures check(s) failed"
fi
echo "systemd e2e: all checks passed"
