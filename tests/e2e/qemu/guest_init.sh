#!/bin/busybox sh
# SPDX-License-Identifier: Apache-2.0
# /init of the QEMU guest built by usb_e2e.sh. It loads the USB, SCSI, HID and 9p modules,
# mounts the host's ward-agent over 9p, starts it, and then checks, step by step, what the host
# hot-plugs over QMP. Every line meant for the host starts with "WARD-E2E ".
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs dev /dev
mkdir -p /run /tmp /ward
mount -t tmpfs run /run

say() { echo "WARD-E2E $*"; }
finish() {
  say "BEGIN-LOGS"
  sed 's/^/agent: /' /run/agent.log
  sed 's/^/uevent: /' /run/uevents.log
  dmesg | grep -i -E 'usb|sd[a-z]|input|hid' | sed 's/^/dmesg: /'
  say "END-LOGS"
  say "$1"
  sync
  poweroff -f
}
fail() { say "FAIL $*"; finish "DONE failed"; }
# wait_until SECONDS COMMAND...: true once COMMAND succeeds, false after SECONDS.
wait_until() {
  limit=$(($1 * 10)); shift
  i=0
  while ! "$@" >/dev/null 2>&1; do
    i=$((i + 1)); [ "$i" -ge "$limit" ] && return 1
    sleep 0.1
  done
}
# The sysfs name (e.g. 2-1) of the USB device whose FILE (serial, idProduct...) reads VALUE.
device_with() {
  for d in /sys/bus/usb/devices/*; do
    case ${d##*/} in usb*|*:*) continue ;; esac
    [ "$(cat "$d/$1" 2>/dev/null)" = "$2" ] && { echo "${d##*/}"; return 0; }
  done
  return 1
}
decided() { grep KIND_DECIDED /run/agent.log | grep -q "$1"; }
has_interfaces() { ls -d /sys/bus/usb/devices/"$1":* >/dev/null 2>&1; }
disks() { ls /sys/block | grep '^sd' ; }
driver_of() { basename "$(readlink "/sys/bus/usb/devices/$1/driver" 2>/dev/null)"; }
is_driver() { [ "$(driver_of "$1")" = "$2" ]; }

while read -r module args; do
  insmod "/lib/modules/$module" $args || fail "insmod $module"
done </etc/modules.order
mount -t 9p -o trans=virtio,version=9p2000.L,ro ward /ward || fail "mount 9p"

/bin/uevent-stamp >/run/uevents.log 2>&1 &
/ward/ward-agent --config /etc/ward/agent.conf 2>/run/agent.log &
wait_until 60 grep -q state=running /run/ward/agent.status || fail "agent did not start"
for hub in /sys/bus/usb/devices/usb*; do
  [ "$(cat "$hub/authorized_default")" = 0 ] || fail "${hub##*/}: authorized_default not 0"
done
say "READY"

# 1. The stick policy blocks: it must never get interfaces, a driver for them, or a disk.
wait_until 30 device_with serial WARD-BLOCK-0002 || fail "blocked stick never appeared"
blocked=$(device_with serial WARD-BLOCK-0002)
wait_until 30 decided WARD-BLOCK-0002 || fail "no decision for the blocked stick"
sleep 3  # time for anything the kernel would bind had the stick been authorised
[ "$(cat "/sys/bus/usb/devices/$blocked/authorized")" = 0 ] || fail "blocked stick authorised"
has_interfaces "$blocked" && fail "blocked stick has interfaces"
[ -z "$(disks)" ] || fail "a disk appeared for the blocked stick: $(disks)"
say "PASS blocked-stick $blocked: authorized=0, no interfaces, no disk"

# 2. The stick policy allows: authorised, bound to usb-storage, its disk readable.
wait_until 30 device_with serial WARD-ALLOW-0001 || fail "allowed stick never appeared"
allowed=$(device_with serial WARD-ALLOW-0001)
wait_until 30 disks || fail "the allowed stick got no disk"
disk=$(disks)
readlink -f "/sys/block/$disk" | grep -q "/$allowed/" || fail "$disk is not on $allowed"
is_driver "$allowed:1.0" usb-storage || fail "$allowed:1.0 not bound to usb-storage"
[ "$(head -c 16 "/dev/$disk")" = "WARD-E2E-DISK-OK" ] || fail "/dev/$disk does not read back"
say "PASS allowed-stick $allowed: authorized=$(cat "/sys/bus/usb/devices/$allowed/authorized"), $allowed:1.0 bound to usb-storage, /dev/$disk reads back"

# 3. The keyboard (safety net): authorised, bound to usbhid, and its keys arrive.
wait_until 30 device_with idVendor 0627 || fail "keyboard never appeared"
kbd=$(device_with idVendor 0627)
wait_until 30 is_driver "$kbd:1.0" usbhid || fail "$kbd:1.0 not bound to usbhid"
# (sh -c: the glob must be expanded on every try)
wait_until 15 sh -c "ls -d /sys/bus/usb/devices/$kbd:1.0/*/input/input*/event*" || fail "no event device"
event=$(basename /sys/bus/usb/devices/"$kbd":1.0/*/input/input*/event*)
wait_until 10 test -c "/dev/input/$event" || fail "/dev/input/$event missing"
# Three input_events (24 bytes each) for one key press: scan code, key, sync.
timeout 30 head -c 72 "/dev/input/$event" >/run/kbd.bin &
reader=$!
sleep 0.5
say "KBD-LISTENING"
wait "$reader" || fail "no key press arrived from the keyboard"
# struct input_event as u16 words: 8 of time, then type, code, value (2 words).
od -An -v -tu2 -w24 /run/kbd.bin | awk '$9 == 1 && $10 == 30 && $11 == 1 {ok = 1} END {exit !ok}' \
  || fail "key A press not seen: $(od -An -v -tu2 -w24 /run/kbd.bin)"
say "PASS keyboard $kbd: authorized=$(cat "/sys/bus/usb/devices/$kbd/authorized"), $kbd:1.0 bound to usbhid, key A read from /dev/input/$event"

# 4. Unplugging the allowed stick is recorded; the blocked one still has nothing.
say "UNPLUG-ALLOWED"
wait_until 30 sh -c "grep KIND_DISCONNECTED /run/agent.log | grep -q WARD-ALLOW-0001" \
  || fail "no disconnect event for the allowed stick"
has_interfaces "$blocked" && fail "blocked stick has interfaces at the end"
say "PASS unplug: disconnect recorded; blocked stick still without interfaces"
finish "DONE ok"
