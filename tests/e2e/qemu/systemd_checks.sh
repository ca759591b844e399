#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Runs in the QEMU guest of systemd_e2e.sh, under the host's own systemd as PID 1, as
# ward-e2e.service. It drives ward-agent.service (the unit shipped in installer/debian, as is)
# through start, reload, a watchdog stall, a crash and stop, and records what it observes as
# "name value..." lines in the results directory the host shares over 9p, with the journal at
# the end. It judges nothing: the host script asserts every value. Then it powers off.
# Every process costs a lot under TCG: one `systemctl show` per step, the journal read once.
set -u
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
results=/run/ward-e2e-results
mkdir -p "$results"
mount -t 9p -o trans=virtio,version=9p2000.L results "$results" || {
  echo "WARD-E2E FAIL cannot mount the results directory"
  systemctl poweroff --force --force
}
facts=$results/facts
: >"$facts"

# fact NAME VALUE...: one observation for the host (and the console, to follow along).
fact() {
  echo "$*" >>"$facts"
  echo "WARD-E2E $*"
}
# props PREFIX PROPERTY,...: the unit's properties as facts PREFIX.PROPERTY.
props() {
  local line
  while IFS= read -r line; do
    fact "$1.${line%%=*}" "${line#*=}"
  done < <(systemctl show -p "$2" ward-agent.service)
}
prop() { systemctl show --value -p "$1" ward-agent.service; }
now() { local up _; read -r up _ </proc/uptime; echo "$up"; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN {printf "%.2f", b - a}'; }
# wait_until SECONDS COMMAND...: true once COMMAND succeeds, false after SECONDS.
wait_until() {
  local limit=$(($1 * 5)) i=0
  shift
  while ! "$@" >/dev/null 2>&1; do
    i=$((i + 1))
    ((i >= limit)) && return 1
    sleep 0.2
  done
}
# restarted N PID: active (running) again, restarted N times, by a process other than PID.
restarted() {
  local out
  out=$'\n'$(systemctl show -p ActiveState,SubState,NRestarts,MainPID ward-agent.service)$'\n'
  [[ "$out" == *$'\nActiveState=active\n'* && "$out" == *$'\nSubState=running\n'* &&
    "$out" == *$'\nNRestarts='"$1"$'\n'* && "$out" != *$'\nMainPID='"$2"$'\n'* &&
    "$out" != *$'\nMainPID=0\n'* ]]
}
# run_tool NAME: exit status of a program on the tmpfs the agent watches (126: refused).
run_tool() {
  local rc=0
  timeout 20 "/srv/ward-exec/$1" 2>/dev/null || rc=$?
  echo "$rc"
}
# PID 1 logs the notification messages it gets (READY=1, RELOADING=1, STOPPING=1) and the
# exit status of a clean exit at debug level: on only around start, reload and stop.
debug_log() { systemctl log-level "$1"; }
mark() { logger -t ward-e2e "step $1"; } # step boundaries in the journal, for the host

fact boot.uptime "$(now)"
fact boot.systemd "$(systemctl --version | head -1)"

# The programs the agent judges live on a tmpfs mounted for this test only (exec_mounts).
mkdir -p /srv/ward-exec
mount -t tmpfs -o mode=0755 ward-exec /srv/ward-exec
for tool in allowed-tool blocked-tool pending-tool held-tool; do
  cp /bin/true "/srv/ward-exec/$tool"
done
fact before.blocked-tool "$(run_tool blocked-tool)"

# --- 1. Start: Type=notify, active (running) once READY=1 arrives. ---------------------------
mark start
debug_log debug
start=$(now)
systemctl start ward-agent.service
fact start.rc "$?"
fact start.seconds "$(since "$start")"
debug_log info
props start FragmentPath,ActiveState,SubState,Type,NotifyAccess,Restart,WatchdogUSec,TimeoutStopUSec,NRestarts,MainPID,StatusText
fact start.pidof "$(pidof ward-agent)"

# --- 2. The hardened unit lets the agent do its job. -----------------------------------------
mark job
fact job.state_dir "$(stat -c '%a %U' /var/lib/ward)"
fact job.store_key "$(stat -c '%a %U %s' /var/lib/ward/store.key 2>&1)"
fact job.store_db_size "$(stat -c '%s' /var/lib/ward/events.db 2>&1)"
fact job.store_db_header "$(head -c 15 /var/lib/ward/events.db 2>/dev/null | tr -c 'A-Za-z0-9 ' .)"
fact job.policy_in_force "$(stat -c '%s' /var/lib/ward/policy-in-force.bundle 2>&1)"
fact job.ipc_socket "$(stat -c '%F %a %U' /run/ward/agent.sock 2>&1)"
fact job.status_file "$(grep -o 'state=[a-z]*' /run/ward/agent.status 2>&1)"
ward-agent status >/dev/null 2>&1
fact job.status_rc "$?"
for hub in /sys/bus/usb/devices/usb*; do
  fact "job.authorized_default.${hub##*/}" "$(cat "$hub/authorized_default")"
done
fact job.allowed-tool "$(run_tool allowed-tool)"
fact job.blocked-tool "$(run_tool blocked-tool)"
fact job.dconf_db "$(stat -c '%s' /etc/dconf/db/ward 2>&1)"
fact job.dconf_locks "$(tr '\n' ' ' </etc/dconf/db/ward.d/locks/00-ward 2>&1)"
fact job.polkit_rules "$(grep -c 'polkit.Result.NO' /etc/polkit-1/rules.d/49-ward.rules 2>&1)"
rm -f /etc/polkit-1/rules.d/49-ward.rules # drift: the agent's inotify watch puts it back
wait_until 20 test -s /etc/polkit-1/rules.d/49-ward.rules
fact job.drift_reverted "$(grep -c 'polkit.Result.NO' /etc/polkit-1/rules.d/49-ward.rules 2>&1)"

# --- 3. Reload: SIGHUP re-reads the bundle; same process. ------------------------------------
mark reload
cp /etc/ward/policy-v2.bundle /etc/ward/policy.bundle
debug_log debug
systemctl reload ward-agent.service
fact reload.rc "$?"
wait_until 20 sh -c "systemctl show --value -p StatusText ward-agent.service | grep -q '^policy 2 '"
debug_log info
props reload StatusText,MainPID,NRestarts
fact reload.blocked-tool "$(run_tool blocked-tool)"
fact reload.pending-tool "$(run_tool pending-tool)"

# --- 4. The watchdog: pinged without any signal, at about half of WatchdogSec (the reload's
# SIGHUP woke the agent, which pings on every wake-up; the next ping is a timed one). ---------
ping1=$(prop WatchdogTimestampMonotonic)
wait_until 25 sh -c "[ \"\$(systemctl show --value -p WatchdogTimestampMonotonic ward-agent)\" != $ping1 ]"
ping2=$(prop WatchdogTimestampMonotonic)
fact watchdog.ping_interval_us "$((ping2 - ping1))"

# --- 5. A stalled agent (SIGSTOP): systemd's watchdog kills it and Restart= starts it again. --
mark stall
pid=$(prop MainPID)
fact stall.pid_before "$pid"
stall=$(now)
kill -STOP "$pid"
wait_until 90 restarted 1 "$pid"
fact stall.seconds "$(since "$stall")"
props stall ActiveState,SubState,NRestarts,MainPID
fact stall.blocked-tool "$(run_tool blocked-tool)"

# --- 6. A crash (SIGSEGV): failed with the signal, restarted; the store opens with its key. ---
mark crash
pid=$(prop MainPID)
fact crash.pid_before "$pid"
key_before=$(sha256sum /var/lib/ward/store.key)
crash=$(now)
kill -SEGV "$pid"
wait_until 60 restarted 2 "$pid"
fact crash.seconds "$(since "$crash")"
props crash ActiveState,SubState,NRestarts,MainPID,StatusText
fact crash.store_key_same "$([[ "$(sha256sum /var/lib/ward/store.key)" == "$key_before" ]] && echo yes || echo no)"

# --- 7. Stop with an exec held by the kernel for the agent: answered, exit 0, in time. -------
mark stop
pid=$(prop MainPID)
fact stop.pid_before "$pid"
rm -f /run/held.rc
# Allowed once by this agent, allowed-tool is remembered by the kernel (an ignore mark): it runs
# while the agent is stopped. Debian's own kernel, so that is proven on the kernel it ships for.
fact stop.allowed-tool-before "$(run_tool allowed-tool)"
kill -STOP "$pid" # the agent cannot answer: the next exec on its mount waits in the kernel
remembered=$(now)
fact stop.remembered-tool "$(run_tool allowed-tool)"
fact stop.remembered-seconds "$(since "$remembered")"
(
  rc=0
  timeout 30 /srv/ward-exec/held-tool 2>/dev/null || rc=$?
  echo "$rc" >/run/held.rc
) &
held=$!
sleep 1
fact stop.held_waiting "$([[ -e /run/held.rc ]] && echo no || echo yes)"
debug_log debug
stop=$(now)
systemctl stop ward-agent.service # SIGTERM, then SIGCONT
fact stop.rc "$?"
fact stop.seconds "$(since "$stop")"
debug_log info
wait "$held"
fact stop.held-tool "$(cat /run/held.rc)"
fact stop.pid_gone "$([[ -d /proc/$pid ]] && echo no || echo yes)"
props stop ActiveState,SubState
fact stop.blocked-tool "$(run_tool blocked-tool)"
for hub in /sys/bus/usb/devices/usb*; do
  fact "stop.authorized_default.${hub##*/}" "$(cat "$hub/authorized_default")"
done

# --- 8. USB modules not loaded yet when the unit starts (early boot): the unit's
# `modprobe usbcore` runs before the sandbox needs /sys/bus/usb. Then no USB at all. ----------
mark usb-late
bus() { [[ -d /sys/bus/usb ]] && echo yes || echo no; }
usb_modules=(xhci_pci xhci_hcd usbcore usb_common)
for m in "${usb_modules[@]}"; do rmmod "$m" 2>/dev/null; done
fact usblate.bus_before "$(bus)"
systemctl start ward-agent.service
fact usblate.rc "$?"
fact usblate.bus_after "$(bus)"
props usblate SubState,StatusText
systemctl stop ward-agent.service
mark usb-none
for m in "${usb_modules[@]}"; do rmmod "$m" 2>/dev/null; done
rm -r "/lib/modules/$(uname -r)"
fact usbnone.bus_before "$(bus)"
systemctl start ward-agent.service
fact usbnone.rc "$?"
props usbnone SubState,StatusText
systemctl stop ward-agent.service

# --- 9. The agent failing to start exits non-zero (no check-config first, a broken bundle). ---
mark broken
mkdir -p /run/systemd/system/ward-agent.service.d
printf '[Service]\nExecStartPre=\nRestart=no\n' >/run/systemd/system/ward-agent.service.d/e2e.conf
systemctl daemon-reload
rm -f /var/lib/ward/policy-in-force.bundle
head -c 100 /etc/ward/policy-v2.bundle >/etc/ward/policy.bundle
systemctl start ward-agent.service 2>/dev/null
fact broken.rc "$?"
props broken ActiveState,Result,ExecMainCode,ExecMainStatus
rm -r /run/systemd/system/ward-agent.service.d
systemctl daemon-reload

fact security "$(systemd-analyze security ward-agent.service 2>/dev/null |
  grep -o 'Overall exposure level for ward-agent.service: [0-9.]*' | grep -o '[0-9.]*$')"
mark end
journalctl -b -o short-monotonic --no-pager >"$results/journal.txt" 2>&1
fact done "$(now)"
sync
systemctl poweroff --force --force
