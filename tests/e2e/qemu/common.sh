# SPDX-License-Identifier: Apache-2.0
# Sourced by the QEMU end-to-end tests.
# `unavailable MESSAGE`: skip (exit 77), or fail under WARD_REQUIRE_ROOT_TESTS=1.
# `e2e_require TOOL...`: unavailable unless the tools and busybox-static are installed.
# `e2e_workdir NAME`: a temporary directory `work`, removed at exit (kept with WARD_E2E_KEEP=1)
# after QEMU (`qemu_pid`, when set) is killed.
# `e2e_qemu CONSOLE APPEND QEMU-ARG...`: boots $KDIR/vmlinux with $work/initrd.cpio under TCG in
# the background (serial console to the file CONSOLE, APPEND added to the kernel command line, an
# xHCI controller `xhci`, no network) and sets `qemu_pid`.
# `e2e_kernel CACHE_DIR` fetches Debian's kernel package through apt (once; cached under
# CACHE_DIR) and sets
#   KVER  the kernel version
#   KDIR  a directory with `vmlinux` (uncompressed, it boots much faster under TCG than the
#         bzImage) and `modules/*.ko` for USB, SCSI, HID, virtio, 9p and overlayfs.
# `e2e_modules MODULE...` then prints the module files those need, in load order (dependencies
# first), without repeats.
# Tests sharing CACHE_DIR may run at the same time: the fetch holds a lock on it.

unavailable() {
  if [[ "${WARD_REQUIRE_ROOT_TESTS:-}" == 1 ]]; then
    echo "FAIL: $* (required under WARD_REQUIRE_ROOT_TESTS=1)" >&2
    exit 1
  fi
  echo "SKIP: $*" >&2
  exit 77
}

e2e_require() {
  local tool
  for tool in "$@"; do
    command -v "$tool" >/dev/null || unavailable "$tool is not installed (scripts/setup-debian.sh)"
  done
  # (not grep -q: with pipefail, busybox killed by SIGPIPE would fail the check)
  /bin/busybox --list 2>/dev/null | grep -x insmod >/dev/null ||
    unavailable "busybox-static is not installed"
}

e2e_workdir() {
  work=$(mktemp -d -t "$1.XXXXXX")
  qemu_pid=
  trap e2e_cleanup EXIT
}
e2e_cleanup() {
  if [[ -n "$qemu_pid" ]]; then kill "$qemu_pid" 2>/dev/null || true; wait "$qemu_pid" 2>/dev/null || true; fi
  if [[ "${WARD_E2E_KEEP:-}" == 1 ]]; then echo "kept $work"; else rm -rf "$work"; fi
}

e2e_qemu() {
  local console=$1 append=$2
  shift 2
  qemu-system-x86_64 -machine pc,accel=tcg -cpu max "$@" \
    -kernel "$KDIR/vmlinux" -initrd "$work/initrd.cpio" \
    -append "console=ttyS0 rdinit=/init panic=-1 quiet loglevel=3 $append" \
    -display none -monitor none -serial "file:$console" -no-reboot -nic none \
    -device qemu-xhci,id=xhci >"$work/qemu.log" 2>&1 &
  qemu_pid=$!
}

E2E_KERNEL_MODULES=(xhci_pci usb_storage sd_mod usbhid hid_generic evdev
  9p 9pnet_virtio virtio_pci overlay virtio_net)

e2e_kernel() {
  local cache=$1 pkg running deb vmlinuz offset path
  for tool in apt-get dpkg depmod modprobe xz flock; do
    command -v "$tool" >/dev/null || unavailable "$tool is not installed (scripts/setup-debian.sh)"
  done
  # The running Debian kernel's package if there is one, else the newest.
  running=$(uname -r)
  if [[ "$running" == *-amd64 ]] && apt-cache show "linux-image-$running" >/dev/null 2>&1; then
    pkg=linux-image-$running
  else
    pkg=$(apt-cache depends linux-image-amd64 2>/dev/null |
      awk '/Depends: linux-image-[0-9]/ {print $2; exit}')
  fi
  [[ -n "$pkg" ]] || unavailable "apt knows no linux-image-amd64 (run apt-get update)"
  KVER=${pkg#linux-image-}
  KDIR=$cache/$KVER
  exec {lock}>"$cache/.lock"
  flock "$lock"
  if [[ "$(cat "$KDIR/ready" 2>/dev/null)" != "deps ${E2E_KERNEL_MODULES[*]}" ]]; then
    rm -rf "$KDIR"
    mkdir -p "$KDIR/modules"
    (cd "$cache" && apt-get download "$pkg" >"$cache/download.log" 2>&1) ||
      unavailable "cannot download $pkg from Debian's archive: $(tail -1 "$cache/download.log")"
    deb=$(ls "$cache/${pkg}"_*.deb | head -1)
    dpkg -x "$deb" "$KDIR/root"
    depmod -b "$KDIR/root" "$KVER"
    # Each module's files in load order (dependencies first).
    mkdir -p "$KDIR/deps"
    for m in "${E2E_KERNEL_MODULES[@]}"; do
      modprobe -d "$KDIR/root" -S "$KVER" --show-depends "$m" | awk '$1 == "insmod" {print $2}' |
        while read -r path; do
          cp "$path" "$KDIR/modules/"
          basename "$path"
        done >"$KDIR/deps/$m"
    done
    # The uncompressed kernel (ELF, PVH entry) boots much faster under TCG than the bzImage.
    vmlinuz=$KDIR/root/boot/vmlinuz-$KVER
    offset=$(LC_ALL=C grep -obUaP '\xfd7zXZ\x00' "$vmlinuz" | head -1 | cut -d: -f1)
    [[ -n "$offset" ]] || offset=0
    tail -c +"$((offset + 1))" "$vmlinuz" | xz -dc >"$KDIR/vmlinux" 2>/dev/null || true
    if ! head -c 4 "$KDIR/vmlinux" | grep -q ELF; then cp "$vmlinuz" "$KDIR/vmlinux"; fi
    rm -rf "$KDIR/root" "$deb"
    echo "deps ${E2E_KERNEL_MODULES[*]}" >"$KDIR/ready"
  fi
  flock -u "$lock"
  exec {lock}>&-
}

e2e_modules() {
  local m
  for m in "$@"; do cat "$KDIR/deps/$m"; done | awk '!seen[$0]++'
}

# `e2e_seed_systemd_guest SEED`: what a systemd guest's overlay needs besides the test's files:
# the guest kernel's USB modules, for ward-agent.service's `modprobe usbcore` (the host's
# /lib/modules has none for this kernel; /lib is /usr/lib on Debian 12), and the host's
# generators (fstab, getty, sysv scripts, cryptsetup...) masked: they have nothing to do in the
# guest and cost seconds each under TCG.
e2e_seed_systemd_guest() {
  local seed=$1 moddir=$1/usr/lib/modules/$KVER module dir generator
  mkdir -p "$moddir/kernel/ward-e2e"
  for module in $(e2e_modules xhci_pci); do cp "$KDIR/modules/$module" "$moddir/kernel/ward-e2e/"; done
  touch "$moddir"/modules.{order,builtin,builtin.modinfo}
  depmod -b "$seed/usr" "$KVER"
  mkdir -p "$seed/etc/systemd/system-generators" "$seed/etc/systemd/system-environment-generators"
  for dir in system-generators system-environment-generators; do
    for generator in /lib/systemd/"$dir"/* /usr/lib/systemd/"$dir"/*; do
      [[ -e "$generator" ]] && ln -sfn /dev/null "$seed/etc/systemd/$dir/${generator##*/}"
    done
  done
  return 0
}

# `e2e_wait_guest CONSOLE SECONDS FAIL_FUNCTION`: waits for QEMU (`qemu_pid`) to power off;
# calls FAIL_FUNCTION MESSAGE (which must exit) on a "WARD-E2E FAIL" console line or after
# SECONDS.
e2e_wait_guest() {
  local console=$1 limit=$2 fail=$3 deadline
  deadline=$(($(date +%s) + limit))
  while kill -0 "$qemu_pid" 2>/dev/null; do
    grep -q '^WARD-E2E FAIL' "$console" && { sleep 1; "$fail" "guest: $(grep '^WARD-E2E FAIL' "$console")"; }
    (($(date +%s) < deadline)) || "$fail" "the guest did not finish within $limit s"
    sleep 0.5
  done
  wait "$qemu_pid" || true
  qemu_pid=
}
