#!/bin/busybox sh
# SPDX-License-Identifier: Apache-2.0
# /init of the initramfs built by systemd_e2e.sh. It loads the virtio, 9p, overlay and USB
# modules, mounts the host's root filesystem (shared read-only over 9p) under a tmpfs overlay,
# copies Ward's files (/seed: the unit, the agent, its config and policy, the test units) on top
# and hands over to the host's own systemd as PID 1 in that root.
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs dev /dev

fail() {
  echo "WARD-E2E FAIL initramfs: $*"
  poweroff -f
}
while read -r module args; do
  insmod "/lib/modules/$module" $args || fail "insmod $module"
done </etc/modules.order
mkdir -p /lower /rw /newroot
mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=512000,cache=loose hostroot /lower ||
  fail "mount the host's root over 9p"
mount -t tmpfs -o mode=0755 rw /rw
mkdir -p /rw/upper /rw/work
mount -t overlay -o lowerdir=/lower,upperdir=/rw/upper,workdir=/rw/work overlay /newroot ||
  fail "mount the overlay"
cp -a /seed/. /newroot/ || fail "copy Ward's files into the guest root"
# When the host is itself a container, its marker files would make systemd believe it runs in
# one (and ignore the kernel command line): this guest is a virtual machine.
rm -f /newroot/.dockerenv /newroot/run/.containerenv
[ -x /newroot/lib/systemd/systemd ] || fail "the host has no /lib/systemd/systemd"
echo "WARD-E2E initramfs: switching to systemd at $(cut -d" " -f1 /proc/uptime) s"
umount /proc /sys
mount --move /dev /newroot/dev
exec switch_root /newroot /lib/systemd/systemd
