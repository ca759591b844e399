#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Ward's .debs on a real systemd: Debian's kernel boots under QEMU (TCG) into this machine's own
# root filesystem (read-only over 9p, a tmpfs overlay on top: the packages are installed in the
# guest only, never here) with the host's systemd as PID 1. A collector built here runs on this
# machine's loopback; QEMU's restricted user network forwards one address in the guest to it, so
# the guest reaches nothing else. In the guest, deb_checks.sh installs the previous ward-agent
# preseeded (it enrols and gets the group's signed policy), stops it as root would (tamper),
# upgrades it to the new version while sampling USB authorized_default, installs the collector
# package, and purges. This script then asserts what the guest saw and what the collector got.
#   usage: deb_e2e.sh <new .debs dir> <previous .debs dir> <ward-collector> <wardctl> <cache dir>
# WARD_E2E_KEEP=1 keeps the work directory; WARD_E2E_TIMEOUT (s, 1500:
# each dpkg run reads this machine's large dpkg database over 9p, minutes on a loaded machine).
set -euo pipefail
usage="usage: $0 <new .debs dir> <previous .debs dir> <ward-collector> <wardctl> <cache dir>"
new=$(readlink -f "${1:?$usage}")
prev=$(readlink -f "${2:?$usage}")
collector=$(readlink -f "${3:?$usage}")
wardctl=$(readlink -f "${4:?$usage}")
cache=${5:?$usage}
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$cache"
cache=$(cd "$cache" && pwd)
started=$(date +%s.%N)
elapsed() { awk -v a="$started" -v b="$(date +%s.%N)" 'BEGIN {printf "%.1f", b - a}'; }

# shellcheck source=common.sh
source "$here/common.sh"
e2e_require qemu-system-x86_64 socat curl
[[ $(id -u) == 0 ]] || unavailable "needs root (QEMU shares / and must read all of it)"
ls "$new"/ward-agent_*.deb "$prev"/ward-agent_*.deb "$new"/ward-collector_*.deb >/dev/null
e2e_kernel "$cache"
e2e_workdir ward-deb-e2e
collector_pid=
stop_collector() {
  if [[ -n "$collector_pid" ]]; then kill "$collector_pid" 2>/dev/null || true; wait "$collector_pid" 2>/dev/null || true; fi
  collector_pid=
}
trap 'stop_collector; e2e_cleanup' EXIT

# --- The site: a collector on this machine's loopback, a group, its key and signed policy. ------
port=$((20000 + RANDOM % 20000))
data=$work/collector
"$collector" init --data-dir "$data" --host ward-collector.test,127.0.0.1 \
  --listen "127.0.0.1:$port" >/dev/null
"$wardctl" keygen --out-dir "$work/keys" >/dev/null
"$collector" add-group --data-dir "$data" --name learners --pubkey-file "$work/keys/ward-policy.pub" >/dev/null
secret=$("$collector" enrolment-secret --data-dir "$data" --group learners)
WARD_STAFF_TOKEN=$("$collector" token create --data-dir "$data" --role it --name IT)
export WARD_STAFF_TOKEN
"$collector" --data-dir "$data" >"$work/collector.log" 2>&1 &
collector_pid=$!
for _ in $(seq 50); do curl -sf --cacert "$data/ca.pem" "https://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.2; done
staff=(--collector "https://127.0.0.1:$port" --ca "$data/ca.pem")
cat >"$work/policy.json" <<'JSON'
{"version": 1, "issued_at": "2026-09-01T08:00:00Z", "mode": "MODE_ENFORCE",
 "name": "deb-e2e", "audience": "AUDIENCE_ADULT",
 "aup": {"version": 1, "title": "t", "text_adult": "Be kind."},
 "usb": {"default_action": "USB_ACTION_BLOCK"},
 "apps": {"default_action": "APP_ACTION_ALLOW"},
 "settings": {"settings": [
   {"name": "desktop.wallpaper", "string_value": "/usr/share/backgrounds/college.png", "locked": true},
   {"name": "software.install", "bool_value": false, "locked": true}]}}
JSON
"$wardctl" policy sign "$work/policy.json" --key "$work/keys/ward-policy.key" --out "$work/policy.bundle" >/dev/null
"$wardctl" policy push "$work/policy.bundle" --group learners "${staff[@]}" >/dev/null

# --- What the overlay adds: the .debs, the preseed, the checks, the guest kernel's modules. ----
seed=$work/initramfs/seed
mkdir -p "$seed"/{srv/ward-e2e/prev,srv/ward-e2e/new,etc/systemd/system/ward-e2e.service.d,usr/local/libexec/ward-e2e}
for v in prev new; do
  src=$prev
  [[ $v == new ]] && src=$new
  for deb in "$src"/*.deb; do
    [[ "$deb" == *-dbgsym_* ]] || cp "$deb" "$seed/srv/ward-e2e/$v/"
  done
done
# The policy key as its 64 hex digits (the other form the debconf question takes).
key_hex=$(openssl pkey -pubin -in "$work/keys/ward-policy.pub" -outform DER | tail -c 32 | od -An -tx1 | tr -d ' \n')
(
  umask 077
  cat >"$seed/srv/ward-e2e/preseed.txt" <<EOF
ward-agent ward-agent/collector_url string https://ward-collector.test:8443
ward-agent ward-agent/collector_ca string $(base64 -w0 "$data/ca.pem")
ward-agent ward-agent/policy_key string $key_hex
ward-agent ward-agent/enrolment_secret password $secret
EOF
  printf '%s\n' "$secret" >"$seed/srv/ward-e2e/secret.pattern"
)
{ cat /etc/hosts; echo "192.0.2.100 ward-collector.test"; } >"$seed/etc/hosts"
install -m 0644 "$here"/systemd/ward-e2e.{target,service} "$seed/etc/systemd/system/"
printf '[Service]\nExecStart=\nExecStart=/bin/bash /usr/local/libexec/ward-e2e/deb_checks.sh\n' \
  >"$seed/etc/systemd/system/ward-e2e.service.d/deb.conf"
install -m 0644 "$here/deb_checks.sh" "$seed/usr/local/libexec/ward-e2e/"
e2e_seed_systemd_guest "$seed"

# --- The initramfs (the systemd test's /init) and the boot. -----------------------------------
stage=$work/initramfs
mkdir -p "$stage"/{bin,lib/modules,etc,proc,sys,dev}
cp /bin/busybox "$stage/bin/busybox"
e2e_modules virtio_pci 9p 9pnet_virtio overlay xhci_pci virtio_net >"$stage/etc/modules.order"
while read -r module; do cp "$KDIR/modules/$module" "$stage/lib/modules/"; done <"$stage/etc/modules.order"
install -m 0755 "$here/systemd_guest_init.sh" "$stage/init"
(cd "$stage" && find . | /bin/busybox cpio -o -H newc 2>/dev/null) >"$work/initrd.cpio"

results=$work/results
mkdir -p "$results"
console=$work/console.log
: >"$console"
# restrict=on: the guest reaches nothing but the one forwarded address (a documentation-range
# address that exists only inside QEMU), which socat connects to the collector on 127.0.0.1.
e2e_qemu "$console" "systemd.unit=ward-e2e.target systemd.show_status=0" \
  -m 1536 -smp 2 \
  -virtfs "local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap" \
  -virtfs "local,path=$results,mount_tag=results,security_model=none" \
  -netdev "user,id=n0,restrict=on,net=192.0.2.0/24,host=192.0.2.2,dns=192.0.2.3,guestfwd=tcp:192.0.2.100:8443-cmd:socat - TCP:127.0.0.1:$port" \
  -device virtio-net-pci,netdev=n0

show_and_fail() {
  echo "FAIL: $*" >&2
  for log in install upgrade purge; do
    [[ -s "$results/$log.log" ]] && { echo "--- $log.log" >&2; tail -15 "$results/$log.log" >&2; }
  done
  [[ -s "$results/journal.txt" ]] && grep -E 'ward-agent|ward-collector|ward-e2e' "$results/journal.txt" | tail -40 >&2
  [[ -s "$results/facts" ]] && cat "$results/facts" >&2
  tail -30 "$console" >&2
  tail -20 "$work/collector.log" >&2
  cat "$work/qemu.log" >&2
  exit 1
}
e2e_wait_guest "$console" "${WARD_E2E_TIMEOUT:-1500}" show_and_fail
echo "guest ran and powered off after $(elapsed) s"
grep -q '^done ' "$results/facts" 2>/dev/null || show_and_fail "the checks did not finish"

# --- Assertions. ------------------------------------------------------------------------------
failures=0
fact() { awk -v k="$1" '$1 == k {sub(/^[^ ]+ ?/, ""); print; exit}' "$results/facts"; }
check() {
  local what=$1
  shift
  if "$@"; then echo "  ok    $what"; else echo "  FAIL  $what" >&2; failures=$((failures + 1)); fi
}
is() { [[ "$(fact "$1")" == "$2" ]] || { echo "        $1 is '$(fact "$1")', expected '$2'" >&2; return 1; }; }
matches() { [[ "$(fact "$1")" =~ $2 ]] || { echo "        $1 is '$(fact "$1")', expected /$2/" >&2; return 1; }; }
same() { [[ -n "$(fact "$1")" && "$(fact "$1")" == "$(fact "$2")" ]] || { echo "        $1 is '$(fact "$1")', $2 is '$(fact "$2")'" >&2; return 1; }; }
differ() { [[ "$(fact "$1")" != "$(fact "$2")" ]] || { echo "        $1 and $2 are both '$(fact "$1")'" >&2; return 1; }; }
all_hubs() { [[ -n "$(fact "$1")" && ! "$(fact "$1")" =~ =[^$2] ]] || { echo "        $1 is '$(fact "$1")', expected every hub =$2" >&2; return 1; }; }
logged() { grep -qE "$2" "$results/$1.log" || { echo "        $1.log has no /$2/" >&2; return 1; }; }
journal_count() { # journal_count STEP REGEX: lines of STEP's journal matching REGEX
  awk -v step="$1" '/ward-e2e(\[[0-9]+\])?: step / {inside = ($NF == step); next} inside' "$results/journal.txt" |
    re=$2 awk '$0 ~ ENVIRON["re"] {n++} END {print n + 0}'
}
restarted_once() { local n; n=$(journal_count upgrade 'systemd\[1\]: Started ward-agent\.service'); [[ "$n" == 1 ]] || { echo "        started $n times during the upgrade" >&2; return 1; }; }
devices_json=$("$wardctl" devices "${staff[@]}" --json)
events_json=$("$wardctl" events tail "${staff[@]}" --json --limit 1000 2>/dev/null || true)
one_device() { local n; n=$(grep -o '"id" *: *"[^"]*"' <<<"$devices_json" | sort -u | wc -l); [[ "$n" == 1 ]] || { echo "        $n devices: $devices_json" >&2; return 1; }; }
event_seen() { grep -q "$1" <<<"$events_json" || { echo "        no $1 among the collector's events" >&2; return 1; }; }
no_event() { ! grep -q "$1" <<<"$events_json" || { echo "        $1 among the collector's events" >&2; return 1; }; }
prev_version=$(dpkg-deb -f "$prev"/ward-agent_*.deb Version)
new_version=$(dpkg-deb -f "$new"/ward-agent_*.deb Version)

echo "install (preseeded, apt-get install -y ./ward-agent_$prev_version.deb):"
check "apt-get install succeeded" is install.rc 0
check "version $prev_version installed" is install.version "$prev_version"
check "the agent runs under systemd as installed (the package's unit)" is install.FragmentPath /lib/systemd/system/ward-agent.service
check "active (running), enabled" bash -c '[[ "$0" == active && "$1" == enabled ]]' "$(fact install.ActiveState)" "$(fact install.UnitFileState)"
check "postinst enrolled it and it got the group's policy 1" logged install 'enrolled as device .* in group learners; policy 1 \(enforce\)'
check "running policy 1 with sync on, nothing degraded but what the guest lacks" matches install.StatusText '^policy 1 \(enforce\); usb on; .*store on; settings on; ipc on; sync on'
check "USB root hubs closed (authorized_default=0)" all_hubs install.hubs 0
check "the enrolment files (and the secret) are gone" is install.secret_file ""
check "the secret is not in debconf's database" is install.secret_in_debconf 0
check "store key made (root-only state)" matches install.store_key '^[0-9a-f]{16}$'
check "settings enforced: dconf locks and the polkit rule written" bash -c '[[ "$0" -gt 0 && "$1" == yes ]]' "$(fact install.dconf_locks)" "$(fact install.polkit_rule)"
check "the collector knows exactly one device" one_device
echo "stopped by root, not by the package:"
check "USB stays closed while it is stopped" all_hubs tamper.hubs 0
check "the collector got a KIND_TAMPER event" event_seen KIND_TAMPER
echo "upgrade to $new_version (apt-get install -y ./ward-agent_$new_version.deb ./ward-collector_$new_version.deb):"
check "apt-get install succeeded" is upgrade.rc 0
check "version $new_version" is upgrade.version "$new_version"
check "restarted exactly once (one 'Started ward-agent.service')" restarted_once
check "a new process" differ upgrade.MainPID upgrade.pid_before
check "active (running) with policy 1 and sync on" matches upgrade.StatusText '^policy 1 \(enforce\); .*store on; .*sync on'
check "no new enrolment" is upgrade.enrolled_again 0
check "the store key is the same" same upgrade.store_key install.store_key
check "the store is kept (and opens: no STORE_RESET)" no_event KIND_STORE_RESET
check "still one device at the collector (same device id)" one_device
check "USB sampled during the upgrade: $(fact upgrade.samples) samples, none open" bash -c '[[ "$0" -gt 10 && "$1" == 0 ]]' "$(fact upgrade.samples)" "$(fact upgrade.samples_open)"
check "the package's stop was not tamper (stopped for an upgrade)" event_seen 'stopped by its package for an upgrade'
echo "collector package (apt-get install -y ./ward-collector_$new_version.deb, preseeded host):"
check "installed with the upgrade, $new_version" is collector.version "$new_version"
check "running under systemd" is collector.SubState running
check "as the ward-collector account" is collector.user ward-collector
check "serving over TLS with the CA made at installation (healthz)" is collector.healthz ok
echo "purge (offline):"
check "apt-get purge succeeded" is purge.rc 0
check "removal tried a last upload and said what is left unsent (offline)" logged purge 'Ward: [1-9][0-9]* safeguarding event\(s\) \(concerns, tamper\) could not be sent'
check "USB defaults restored (authorized_default=1)" all_hubs purge.hubs 1
check "dconf locks and profile gone" is purge.dconf 0
check "polkit rule gone" is purge.polkit_rule no
check "state, store and key gone" is purge.state gone
check "/etc/ward gone" is purge.etc gone
check "the unit is gone" is purge.unit not-found
check "ward-collector purged with it (store, keys, settings gone)" is purge.collector gone
echo "exposure of ward-collector.service (systemd-analyze security): $(fact collector.exposure)"
echo "timings (TCG): boot $(fact boot.uptime) s; install $(fact install.seconds) s; upgrade $(fact upgrade.seconds) s; purge $(fact purge.seconds) s; whole test $(elapsed) s"
if ((failures > 0)); then
  show_and_fail "$failures check(s) failed"
fi
echo "deb e2e: all checks passed"
