#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# USB end to end: Debian's kernel boots under QEMU (TCG) with the host-built ward-agent inside
# (over 9p), and QMP hot-plugs a usb-storage stick the policy blocks, one it allows, and a
# usb-kbd. The guest (guest_init.sh) checks what the kernel did; this script drives the plugs and
# reports the agent's decision latency (kernel uevent to the decision event, on the guest clock).
#   usage: usb_e2e.sh <ward-agent> <cache dir>
# The kernel .deb comes from Debian's archive through apt (cached under <cache dir>). When it
# cannot be had, the test fails under WARD_REQUIRE_ROOT_TESTS=1 and skips (exit 77) otherwise.
set -euo pipefail
agent=$(readlink -f "${1:?usage: $0 <ward-agent> <cache dir>}")
cache=${2:?usage: $0 <ward-agent> <cache dir>}
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$cache"
cache=$(cd "$cache" && pwd)

# shellcheck source=common.sh
source "$here/common.sh"
e2e_require qemu-system-x86_64 cc perl
busybox=/bin/busybox
[[ -x "$agent" ]] || { echo "FAIL: no ward-agent at $agent" >&2; exit 1; }

# --- The kernel: the running Debian kernel's package if there is one, else the newest. -------
e2e_kernel "$cache"
kdir=$KDIR

# --- The initramfs: busybox, the modules, the agent's libraries, config and policy. ----------
e2e_workdir ward-usb-e2e
stage=$work/initramfs
mkdir -p "$stage"/{bin,lib/modules,etc/ward,proc,sys,dev,run,tmp}
cp "$busybox" "$stage/bin/busybox"
cc -O2 -static -o "$stage/bin/uevent-stamp" "$here/uevent_stamp.c"
e2e_modules xhci_pci usb_storage sd_mod usbhid hid_generic evdev 9p 9pnet_virtio virtio_pci \
  >"$stage/etc/modules.order"
while read -r module; do cp "$kdir/modules/$module" "$stage/lib/modules/"; done <"$stage/etc/modules.order"
cp "$here/guest_init.sh" "$stage/init"
chmod 755 "$stage/init"
ldd "$agent" | awk '/=> \// {print $3} $1 ~ /^\// {print $1}' | sort -u | while read -r lib; do
  mkdir -p "$stage$(dirname "$lib")"
  cp -L "$lib" "$stage$lib"
done
# The store is off so that events are journal lines the guest can check (the store has its own
# tests).
cat >"$stage/etc/ward/agent.conf" <<'CONF'
dev_policy_json = /etc/ward/policy.json
ipc = off
status_file = /run/ward/agent.status
store = off
usb = on
sysfs_root = /sys
exec = off
settings = off
CONF
# Storage is blocked except the stick with serial WARD-ALLOW-0001; keyboards keep working (safety
# net), so the keyboard is allowed by no rule of its own.
cat >"$stage/etc/ward/policy.json" <<'JSON'
{"version": 1, "issued_at": "2026-09-01T08:00:00Z", "mode": "MODE_ENFORCE", "name": "usb-e2e",
 "audience": "AUDIENCE_UNDER_18", "aup": {"version": 1, "title": "t", "text_under_18": "Be kind."},
 "usb": {"default_action": "USB_ACTION_BLOCK",
         "rules": [{"id": "allow-college-stick", "action": "USB_ACTION_ALLOW",
                    "device_id": {"values": ["46f4:0001"]},
                    "serial": {"values": ["WARD-ALLOW-0001"]}},
                   {"id": "block-storage", "action": "USB_ACTION_BLOCK",
                    "scope": "USB_RULE_SCOPE_INTERFACE",
                    "with_interface": {"op": "SET_OPERATOR_ONE_OF", "values": ["08:*:*"]}}]}}
JSON
(cd "$stage" && find . | "$busybox" cpio -o -H newc 2>/dev/null) >"$work/initrd.cpio"
truncate -s 8M "$work/blocked.img" "$work/allowed.img"
printf 'WARD-E2E-DISK-OK' | dd of="$work/allowed.img" conv=notrunc status=none

# --- Boot, plug, check. -----------------------------------------------------------------------
console=$work/console.log
qmp_sock=$work/qmp.sock
: >"$console"
e2e_qemu "$console" "" -m 512 -smp 1 \
  -virtfs "local,path=$(dirname "$agent"),mount_tag=ward,security_model=none,readonly=on" \
  -drive "if=none,id=blocked,file=$work/blocked.img,format=raw" \
  -drive "if=none,id=allowed,file=$work/allowed.img,format=raw" \
  -qmp "unix:$qmp_sock,server=on,wait=off"
started=$(date +%s.%N)

show_and_fail() {
  echo "FAIL: $*" >&2
  sed -n '/WARD-E2E BEGIN-LOGS/,/WARD-E2E END-LOGS/p' "$console" | tail -60 >&2 || true
  grep -v 'WARD-E2E BEGIN-LOGS' "$console" | tail -30 >&2
  cat "$work/qemu.log" >&2
  exit 1
}
# wait_for MARKER SECONDS: the guest printed "WARD-E2E MARKER"; fails on a guest FAIL line,
# on QEMU exiting, or after SECONDS.
wait_for() {
  local deadline=$(($(date +%s) + $2))
  while ! grep -q "^WARD-E2E $1" "$console"; do
    grep -q '^WARD-E2E FAIL' "$console" && { sleep 1; show_and_fail "guest: $(grep '^WARD-E2E FAIL' "$console")"; }
    kill -0 "$qemu_pid" 2>/dev/null || show_and_fail "QEMU exited before '$1'"
    (($(date +%s) < deadline)) || show_and_fail "no '$1' from the guest within $2 s"
    sleep 0.2
  done
}
qmp() { perl "$here/qmp.pl" "$qmp_sock" "$@" >>"$work/qmp.log" || show_and_fail "QMP: $(tail -1 "$work/qmp.log")"; }
key() { echo "{\"type\": \"key\", \"data\": {\"down\": $1, \"key\": {\"type\": \"qcode\", \"data\": \"a\"}}}"; }

wait_for READY 90
echo "guest ready after $(awk -v a="$started" -v b="$(date +%s.%N)" 'BEGIN {printf "%.1f", b - a}') s"
qmp '{"execute": "device_add", "arguments": {"driver": "usb-storage", "bus": "xhci.0", "drive": "blocked", "serial": "WARD-BLOCK-0002", "id": "stick-blocked"}}'
wait_for "PASS blocked-stick" 60
qmp '{"execute": "device_add", "arguments": {"driver": "usb-storage", "bus": "xhci.0", "drive": "allowed", "serial": "WARD-ALLOW-0001", "id": "stick-allowed"}}'
wait_for "PASS allowed-stick" 60
qmp '{"execute": "device_add", "arguments": {"driver": "usb-kbd", "bus": "xhci.0", "id": "kbd"}}'
wait_for KBD-LISTENING 60
qmp "{\"execute\": \"input-send-event\", \"arguments\": {\"events\": [$(key true)]}}" \
  "{\"execute\": \"input-send-event\", \"arguments\": {\"events\": [$(key false)]}}"
wait_for "PASS keyboard" 40
wait_for UNPLUG-ALLOWED 10
qmp '{"execute": "device_del", "arguments": {"id": "stick-allowed"}}'
wait_for "PASS unplug" 40
wait_for "DONE" 30
wait "$qemu_pid" || true
qemu_pid=
grep -q '^WARD-E2E DONE ok' "$console" || show_and_fail "guest did not finish cleanly"
grep '^WARD-E2E PASS' "$console"

# --- Decision latency: the kernel's "add" uevent for each device (seen by a listener in the
# guest) to the agent's KIND_DECIDED event for it, which is recorded after `authorized` is
# written. Both stamps come from the guest's CLOCK_REALTIME.
tr -d '\r' <"$console" >"$work/console.txt"
console=$work/console.txt
echo "USB decision latency in the guest (TCG, 1 vCPU), uevent 'add' -> decision event:"
grep '^agent: .*KIND_DECIDED' "$console" | while read -r line; do
  port=$(grep -o 'via_port[^A-Za-z0-9]*[0-9.-]*' <<<"$line" | head -1 | grep -o '[0-9][0-9.-]*$')
  when=$(grep -o 'device_time[^0-9]*[0-9T:.-]*Z' <<<"$line" | head -1 | grep -o '[0-9][0-9T:.-]*Z$')
  serial=$(grep -o 'serial[^A-Za-z0-9]*WARD-[A-Z0-9-]*' <<<"$line" | head -1 | grep -o 'WARD-[A-Z0-9-]*$' || true)
  added=$(awk -v p="$port" '$1 == "uevent:" && $3 ~ ("^add@.*/" p "$") {print $2; exit}' "$console")
  effect=$(awk -v p="$port" '$1 == "uevent:" && $3 ~ ("^add@.*/" p ":1\\.0$") {print $2; exit}' "$console")
  decided=$(date -d "$when" +%s.%N)
  awk -v port="$port" -v serial="${serial:-keyboard}" -v a="$added" -v d="$decided" -v e="$effect" 'BEGIN {
    printf "  %-5s %-16s decision %.1f ms after the uevent", port, serial, (d - a) * 1000
    if (e != "") printf "; interface 1.0 added %.1f ms after the uevent", (e - a) * 1000
    printf "\n" }'
done
echo "usb e2e: all checks passed"
