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

unavailable() {
  if [[ "${WARD_REQUIRE_ROOT_TESTS:-}" == 1 ]]; then
    echo "FAIL: $* (required under WARD_REQUIRE_ROOT_TESTS=1)" >&2
    exit 1
  fi
  echo "SKIP: $*" >&2
  exit 77
}
for tool in qemu-system-x86_64 apt-get dpkg depmod modprobe cc perl xz; do
  command -v "$tool" >/dev/null || unavailable "$tool is not installed (scripts/setup-debian.sh)"
done
busybox=/bin/busybox
"$busybox" --list 2>/dev/null | grep -qx insmod || unavailable "busybox-static is not installed"
[[ -x "$agent" ]] || { echo "FAIL: no ward-agent at $agent" >&2; exit 1; }

# --- The kernel: the running Debian kernel's package if there is one, else the newest. -------
running=$(uname -r)
if [[ "$running" == *-amd64 ]] && apt-cache show "linux-image-$running" >/dev/null 2>&1; then
  pkg=linux-image-$running
else
  pkg=$(apt-cache depends linux-image-amd64 2>/dev/null |
    awk '/Depends: linux-image-[0-9]/ {print $2; exit}')
fi
[[ -n "$pkg" ]] || unavailable "apt knows no linux-image-amd64 (run apt-get update)"
kver=${pkg#linux-image-}
modules=(xhci_pci usb_storage sd_mod usbhid hid_generic evdev 9p 9pnet_virtio virtio_pci)
kdir=$cache/$kver
if [[ ! -f "$kdir/ready" ]]; then
  rm -rf "$kdir"
  mkdir -p "$kdir/modules"
  (cd "$cache" && apt-get download "$pkg" >"$cache/download.log" 2>&1) ||
    unavailable "cannot download $pkg from Debian's archive: $(tail -1 "$cache/download.log")"
  deb=$(ls "$cache/${pkg}"_*.deb | head -1)
  dpkg -x "$deb" "$kdir/root"
  depmod -b "$kdir/root" "$kver"
  # Module files in load order (dependencies first), without repeats.
  for m in "${modules[@]}"; do
    modprobe -d "$kdir/root" -S "$kver" --show-depends "$m"
  done | awk '$1 == "insmod" && !seen[$2]++ {print $2}' >"$kdir/order.paths"
  while read -r path; do
    cp "$path" "$kdir/modules/"
    basename "$path"
  done <"$kdir/order.paths" >"$kdir/modules.order"
  # The uncompressed kernel (ELF, PVH entry) boots much faster under TCG than the bzImage.
  vmlinuz=$kdir/root/boot/vmlinuz-$kver
  offset=$(LC_ALL=C grep -obUaP '\xfd7zXZ\x00' "$vmlinuz" | head -1 | cut -d: -f1)
  [[ -n "$offset" ]] || offset=0
  tail -c +"$((offset + 1))" "$vmlinuz" | xz -dc >"$kdir/vmlinux" 2>/dev/null || true
  if ! head -c 4 "$kdir/vmlinux" | grep -q ELF; then cp "$vmlinuz" "$kdir/vmlinux"; fi
  rm -rf "$kdir/root" "$deb"
  touch "$kdir/ready"
fi

# --- The initramfs: busybox, the modules, the agent's libraries, config and policy. ----------
work=$(mktemp -d -t ward-usb-e2e.XXXXXX)
qemu_pid=
cleanup() {
  if [[ -n "$qemu_pid" ]]; then kill "$qemu_pid" 2>/dev/null || true; wait "$qemu_pid" 2>/dev/null || true; fi
  if [[ "${WARD_E2E_KEEP:-}" == 1 ]]; then echo "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
stage=$work/initramfs
mkdir -p "$stage"/{bin,lib/modules,etc/ward,proc,sys,dev,run,tmp}
cp "$busybox" "$stage/bin/busybox"
cc -O2 -static -o "$stage/bin/uevent-stamp" "$here/uevent_stamp.c"
cp "$kdir"/modules/*.ko "$stage/lib/modules/"
cp "$kdir/modules.order" "$stage/etc/modules.order"
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
qemu-system-x86_64 -machine pc,accel=tcg -cpu max -m 512 -smp 1 \
  -kernel "$kdir/vmlinux" -initrd "$work/initrd.cpio" \
  -append "console=ttyS0 rdinit=/init panic=-1 quiet loglevel=3" \
  -display none -monitor none -serial "file:$console" -no-reboot -nic none \
  -device qemu-xhci,id=xhci \
  -virtfs "local,path=$(dirname "$agent"),mount_tag=ward,security_model=none,readonly=on" \
  -drive "if=none,id=blocked,file=$work/blocked.img,format=raw" \
  -drive "if=none,id=allowed,file=$work/allowed.img,format=raw" \
  -qmp "unix:$qmp_sock,server=on,wait=off" >"$work/qemu.log" 2>&1 &
qemu_pid=$!
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
