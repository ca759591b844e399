#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Runs in the QEMU guest of deb_e2e.sh (as ward-e2e.service, under systemd as PID 1): installs
# Ward's .debs as IT would (preseeded, `apt-get install -y ./ward-agent_*.deb`), stops the agent
# the way a learner with root would (tamper), upgrades it while sampling the USB root hubs'
# authorized_default, installs the collector package, and purges. It records what it sees as
# "name value..." facts in the host's results directory; the host script judges them.
set -u
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
export DEBIAN_FRONTEND=noninteractive
results=/run/ward-e2e-results
mkdir -p "$results"
mount -t 9p -o trans=virtio,version=9p2000.L results "$results" || {
  echo "WARD-E2E FAIL cannot mount the results directory"
  systemctl poweroff --force --force
}
facts=$results/facts
: >"$facts"
seed=/srv/ward-e2e
fact() {
  echo "$*" >>"$facts"
  echo "WARD-E2E $*"
}
now() { local up _; read -r up _ </proc/uptime; echo "$up"; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN {printf "%.1f", b - a}'; }
mark() { logger -t ward-e2e "step $1"; }
props() { # props PREFIX UNIT PROPERTY,...
  local line
  while IFS= read -r line; do
    fact "$1.${line%%=*}" "${line#*=}"
  done < <(systemctl show -p "$3" "$2")
}
wait_until() { # wait_until SECONDS COMMAND... (by the clock: every process is slow under TCG)
  local until
  until=$(awk -v n="$(now)" -v s="$1" 'BEGIN {print n + s}')
  shift
  while ! "$@" >/dev/null 2>&1; do
    awk -v n="$(now)" -v u="$until" 'BEGIN {exit !(n >= u)}' && return 1
    sleep 0.2
  done
}
hubs() { # every root hub's authorized_default, "usb1=0 usb2=0" (no process: it is sampled)
  local hub out="" value
  for hub in /sys/bus/usb/devices/usb*; do
    [[ -e "$hub/authorized_default" ]] && read -r value <"$hub/authorized_default" &&
      out+="${hub##*/}=$value "
  done
  echo "${out% }"
}
sha() { sha256sum "$1" 2>/dev/null | cut -c1-16; }
running() { systemctl is-active --quiet ward-agent.service && ward-agent status >/dev/null 2>&1; }

fact boot.uptime "$(now)"
# This machine's image forbids service starts in package scripts (a policy-rc.d for containers);
# a laptop has none. man-db's trigger and apt's package lists cost minutes under TCG and have
# nothing to do with Ward: off (apt installs the local .debs from the dpkg status alone).
rm -f /usr/sbin/policy-rc.d
echo "man-db man-db/auto-update boolean false" | debconf-set-selections
mkdir -p /run/ward-e2e-empty
apt_get() {
  apt-get -o Dir::Etc::SourceList=/dev/null -o Dir::Etc::SourceParts=/run/ward-e2e-empty \
    -o Dir::State::Lists=/run/ward-e2e-empty "$@"
}
# The guest's network: QEMU's user network (restricted: no way out) forwards the collector's
# address to the collector on the host's loopback. USB root hubs for the agent to close.
ip link set lo up
ip link set eth0 up && ip addr add 192.0.2.15/24 dev eth0
modprobe -q xhci_pci
wait_until 10 test -e /sys/bus/usb/devices/usb1
fact boot.hubs "$(hubs)"

# --- 1. Install the previous version, preseeded. ----------------------------------------------
mark install
debconf-set-selections <"$seed/preseed.txt"
rm -f "$seed/preseed.txt"
start=$(now)
apt_get install -y --no-install-recommends "$seed"/prev/ward-agent_*.deb >"$results/install.log" 2>&1
fact install.rc "$?"
fact install.seconds "$(since "$start")"
wait_until 30 running
props install ward-agent.service ActiveState,SubState,FragmentPath,UnitFileState,StatusText,MainPID,NRestarts
fact install.version "$(dpkg-query -W -f='${Version}' ward-agent)"
fact install.hubs "$(hubs)"
fact install.secret_file "$(ls /etc/ward/enrol.d 2>/dev/null | tr '\n' ' ')"
fact install.secret_in_debconf "$(grep -rlF -f "$seed/secret.pattern" /var/cache/debconf/ 2>/dev/null | wc -l)"
fact install.store_key "$(sha /var/lib/ward/store.key)"
fact install.events_db "$(stat -c %s /var/lib/ward/events.db 2>/dev/null)"
fact install.dconf_locks "$(cat /etc/dconf/db/ward.d/locks/00-ward 2>/dev/null | wc -l)"
fact install.polkit_rule "$(test -e /etc/polkit-1/rules.d/49-ward.rules && echo yes || echo no)"

# --- 2. Stopped by root, not by the package: tamper, and back. ---------------------------------
mark tamper
systemctl stop ward-agent.service
fact tamper.hubs "$(hubs)"
systemctl start ward-agent.service
wait_until 30 running
fact tamper.active "$(systemctl is-active ward-agent.service)"
sleep 3 # the tamper event goes to the collector at once (CRITICAL)

# --- 3. Upgrade: one restart, the store and credential kept, USB closed throughout. ------------
mark upgrade
pid_before=$(systemctl show --value -p MainPID ward-agent.service)
fact upgrade.pid_before "$pid_before"
: >/run/ward-e2e-usb-samples
touch /run/ward-e2e-sampling
mkfifo /run/ward-e2e-tick
(
  # Every ~50 ms, without starting a process (read's timeout on a fifo nobody writes is the
  # clock), so the sampling itself does not slow the upgrade down.
  exec 9<>/run/ward-e2e-tick
  while [[ -e /run/ward-e2e-sampling ]]; do
    hubs >>/run/ward-e2e-usb-samples
    read -rt 0.05 -u 9 || true
  done
) &
sampler=$!
# The collector package is installed in the same run (each dpkg run reads this machine's large
# dpkg database over 9p, which costs about a minute under TCG).
debconf-set-selections <<'EOF'
ward-collector ward-collector/host string guest-collector.test
ward-collector ward-collector/listen string 127.0.0.1:9443
EOF
start=$(now)
apt_get install -y --no-install-recommends "$seed"/new/ward-agent_*.deb \
  "$seed"/new/ward-collector_*.deb >"$results/upgrade.log" 2>&1
fact upgrade.rc "$?"
fact upgrade.seconds "$(since "$start")"
wait_until 30 running
sleep 1
rm -f /run/ward-e2e-sampling
wait "$sampler"
cp /run/ward-e2e-usb-samples "$results/usb-samples"
fact upgrade.samples "$(wc -l </run/ward-e2e-usb-samples)"
fact upgrade.samples_open "$(grep -c '=[^0]' /run/ward-e2e-usb-samples)"
props upgrade ward-agent.service ActiveState,SubState,StatusText,MainPID,NRestarts
fact upgrade.version "$(dpkg-query -W -f='${Version}' ward-agent)"
fact upgrade.store_key "$(sha /var/lib/ward/store.key)"
fact upgrade.events_db "$(stat -c %s /var/lib/ward/events.db 2>/dev/null)"
fact upgrade.hubs "$(hubs)"
fact upgrade.enrolled_again "$(grep -c 'enrolled as device' "$results/upgrade.log")"

# --- 4. The collector package (installed with the upgrade): a running collector. -------------
mark collector
fact collector.version "$(dpkg-query -W -f='${Version}' ward-collector)"
wait_until 30 curl -sf --cacert /var/lib/ward-collector/ca.pem https://127.0.0.1:9443/healthz
fact collector.healthz "$(curl -sf --cacert /var/lib/ward-collector/ca.pem https://127.0.0.1:9443/healthz)"
props collector ward-collector.service ActiveState,SubState,User,FragmentPath
fact collector.user "$(stat -c %U "/proc/$(systemctl show --value -p MainPID ward-collector.service)")"
fact collector.exposure "$(systemd-analyze security ward-collector.service 2>/dev/null |
  grep -o 'Overall exposure level for ward-collector.service: [0-9.]*' | grep -o '[0-9.]*$')"

# --- 5. Offline: a tamper event that cannot reach the collector, then purge. ------------------
# Purge: the removal's last upload cannot deliver it and says so; USB defaults, dconf locks and
# the polkit rule are restored; state gone.
mark offline
ip link set eth0 down
systemctl stop ward-agent.service
systemctl start ward-agent.service
wait_until 30 running
fact offline.active "$(systemctl is-active ward-agent.service)"
mark purge
start=$(now)
# dpkg --purge (what apt-get purge runs, in one dpkg run instead of two).
dpkg --purge ward-agent ward-collector >"$results/purge.log" 2>&1
fact purge.rc "$?"
fact purge.seconds "$(since "$start")"
fact purge.active "$(systemctl is-active ward-agent.service)"
fact purge.hubs "$(hubs)"
fact purge.state "$(test -e /var/lib/ward && echo present || echo gone)"
fact purge.etc "$(test -e /etc/ward && echo present || echo gone)"
fact purge.dconf "$(ls /etc/dconf/db/ward /etc/dconf/db/ward.d /etc/dconf/profile/user 2>/dev/null | wc -l)"
fact purge.polkit_rule "$(test -e /etc/polkit-1/rules.d/49-ward.rules && echo yes || echo no)"
fact purge.unit "$(systemctl show --value -p LoadState ward-agent.service)"
fact purge.collector "$(test -e /var/lib/ward-collector -o -e /etc/ward-collector && echo present || echo gone)"

mark end
journalctl -b -o short-monotonic --no-pager >"$results/journal.txt" 2>&1
fact done "$(now)"
sync
systemctl poweroff --force --force
