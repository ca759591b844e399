#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Runs inside the chroot of deb_chroot_test.sh (as root, no systemd): the packages' life cycle
# with Ward's checks. Prints "ok"/"FAIL" per check and exits 1 if any failed.
set -uo pipefail
export DEBIAN_FRONTEND=noninteractive
t=/srv/ward-test
failures=0
step_started=$(date +%s.%N)
step() {
  printf '%s (%.1f s)\n' "$*" "$(awk -v a="$step_started" -v b="$(date +%s.%N)" 'BEGIN {print b - a}')"
  step_started=$(date +%s.%N)
}
check() { # check DESCRIPTION COMMAND...
  local what=$1
  shift
  if "$@"; then
    echo "  ok    $what"
  else
    echo "  FAIL  $what"
    failures=$((failures + 1))
  fi
}
die() { echo "FAIL: $*"; exit 1; }
apt_install() { apt-get install -y -q --no-install-recommends "$@" >"$t/apt.log" 2>&1 || { tail -40 "$t/apt.log"; die "apt-get install $*"; }; }
# Everything on the root filesystem that a package may leave behind.
snapshot() {
  find / -xdev \( -path /proc -o -path /dev -o -path /tmp -o -path /run -o -path /srv \
    -o -path /var/cache -o -path /var/lib/apt -o -path /var/lib/dpkg -o -path /var/log \
    -o -path /root \) -prune -o -print | sort
}
pkg_version() { dpkg-query -W -f='${Version}' "$1" 2>/dev/null; }

snapshot >"$t/before.txt"
new_version=$(dpkg-deb -f "$t"/new/ward-agent_*.deb Version)
prev_version=$(dpkg-deb -f "$t"/prev/ward-agent_*.deb Version)
dpkg --compare-versions "$prev_version" lt "$new_version" || die "$prev_version is not older than $new_version"
echo "versions: previous $prev_version, new $new_version"

# --- The collector (previous version): init at installation with the preseeded host name. ---
port=$((20000 + RANDOM % 20000))
debconf-set-selections <<EOF
ward-collector ward-collector/host string ward-collector.test
ward-collector ward-collector/listen string 127.0.0.1:$port
EOF
apt_install "$t"/prev/ward-collector_*.deb "$t"/prev/wardctl_*.deb
step "collector $prev_version and wardctl installed"
check "collector settings written at installation" grep -q "^listen = 127.0.0.1:$port" /etc/ward-collector/collector.conf
check "settings readable by the collector's group only (640 root:ward-collector)" \
  test "$(stat -c '%a %U:%G' /etc/ward-collector/collector.conf)" = "640 root:ward-collector"
check "store, CA and server key owned by ward-collector" \
  test "$(stat -c '%U' /var/lib/ward-collector/collector.db /var/lib/ward-collector/ca.pem /var/lib/ward-collector/server.key | sort -u)" = "ward-collector"
check "data directory 0700" test "$(stat -c %a /var/lib/ward-collector)" = 700
check "the server certificate names the preseeded host" \
  bash -c "sed '/-----/d' /var/lib/ward-collector/server.pem | base64 -d | grep -qa ward-collector.test"
conf=/etc/ward-collector/collector.conf
as_collector() { runuser -u ward-collector -- "$@"; }
as_collector ward-collector serve --config "$conf" >"$t/collector.log" 2>&1 &
collector_pid=$!
for _ in $(seq 50); do curl -sf --cacert /var/lib/ward-collector/ca.pem "https://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.2; done
check "the packaged collector serves (healthz over TLS with the site CA)" \
  curl -sf --cacert /var/lib/ward-collector/ca.pem "https://127.0.0.1:$port/healthz" -o /dev/null

mkdir -p -m 0755 /srv/keys
wardctl keygen --out-dir /srv/keys >/dev/null || die "wardctl keygen"
chmod 0755 /srv/keys && chmod 0644 /srv/keys/ward-policy.pub
as_collector ward-collector add-group --config "$conf" --name learners \
  --pubkey-file /srv/keys/ward-policy.pub >/dev/null || die "add-group"
secret=$(as_collector ward-collector enrolment-secret --config "$conf" --group learners) || die "enrolment-secret"
WARD_STAFF_TOKEN=$(as_collector ward-collector token create --config "$conf" --role it --name IT) || die "token"
export WARD_STAFF_TOKEN
staff=(--collector "https://127.0.0.1:$port" --ca /var/lib/ward-collector/ca.pem)
cat >"$t/policy.json" <<'JSON'
{"version": 3, "issued_at": "2026-09-01T08:00:00Z", "mode": "MODE_ENFORCE",
 "name": "chroot", "audience": "AUDIENCE_ADULT",
 "aup": {"version": 1, "title": "t", "text_adult": "Be kind."},
 "usb": {"default_action": "USB_ACTION_BLOCK"},
 "apps": {"default_action": "APP_ACTION_ALLOW"}}
JSON
wardctl policy sign "$t/policy.json" --key /srv/keys/ward-policy.key --out "$t/policy.bundle" >/dev/null || die "sign"
wardctl policy push "$t/policy.bundle" --group learners "${staff[@]}" >/dev/null || die "push"
devices() { wardctl devices "${staff[@]}" --json; }
device_ids() { devices | grep -o '"id" *: *"[^"]*"' | sed 's/.*"\([^"]*\)"$/\1/' | sort -u; }
step "site set up: group, secret, signed policy 3 pushed"

# --- ward-agent (previous version) preseeded through debconf. ------------------------------
# No process may ever carry the secret in its argv: watched during the installation (the
# pattern comes from a file, so the watcher's own argv does not hold it either).
printf '%s\n' "$secret" >"$t/secret.pattern"
: >"$t/argv-hits"
touch "$t/watch"
(
  while [[ -e "$t/watch" ]]; do
    grep -lsF -f "$t/secret.pattern" /proc/[0-9]*/cmdline >>"$t/argv-hits" 2>/dev/null
    sleep 0.05
  done
) &
watcher=$!
debconf-set-selections <<EOF
ward-agent ward-agent/collector_url string https://127.0.0.1:$port
ward-agent ward-agent/collector_ca string $(base64 -w0 /var/lib/ward-collector/ca.pem)
ward-agent ward-agent/policy_key string /srv/keys/ward-policy.pub
ward-agent ward-agent/enrolment_secret password $secret
EOF
apt_install "$t"/prev/ward-agent_*.deb "$t"/prev/ward-tray_*.deb
cp "$t/apt.log" "$t/install.log"
rm -f "$t/watch"
wait "$watcher"
step "agent $prev_version installed (preseeded)"
check "postinst enrolled and printed the device and the policy" \
  grep -q "enrolled as device .* in group learners; policy 3 (enforce) is in force" "$t/install.log"
check "no process had the secret in its argv" test ! -s "$t/argv-hits"
check "the secret is not in debconf's database" bash -c "! grep -rqF -f $t/secret.pattern /var/cache/debconf/"
check "the secret file is deleted once enrolled" test ! -e /etc/ward/enrol.d/secret
check "/etc/ward/enrol.d is root-only (700)" test "$(stat -c %a /etc/ward/enrol.d)" = 700
check "the secret is nowhere under /etc or /var/lib" bash -c "! grep -rqF -f $t/secret.pattern /etc /var/lib"
check "collector settings in agent.conf.d" grep -q "^collector_url = https://127.0.0.1:$port" /etc/ward/agent.conf.d/50-enrolment.conf
check "the policy key is pinned" cmp -s /etc/ward/policy.pub /srv/keys/ward-policy.pub
check "the policy in force is kept (state directory 700)" \
  test -s /var/lib/ward/policy-in-force.bundle -a "$(stat -c %a /var/lib/ward)" = 700
check "store key 600, 32 bytes" test "$(stat -c '%a %s' /var/lib/ward/store.key)" = "600 32"
check "ward-agent --check-config accepts it" ward-agent --check-config
device=$(device_ids | head -1)
check "the collector lists one device" test -n "$device" -a "$(device_ids | wc -l)" = 1
key_sum=$(sha256sum </var/lib/ward/store.key)
policy_sum=$(sha256sum </var/lib/ward/policy-in-force.bundle)
check "agent.conf is a conffile" grep -q '^ /etc/ward/agent.conf ' <(dpkg-query -W -f='${Conffiles}\n' ward-agent)
check "the unit is installed and enabled" test -L /etc/systemd/system/multi-user.target.wants/ward-agent.service

# --- Upgrade all four to the new version. ---------------------------------------------------
apt_install "$t"/new/ward-agent_*.deb "$t"/new/ward-tray_*.deb "$t"/new/ward-collector_*.deb "$t"/new/wardctl_*.deb
cp "$t/apt.log" "$t/upgrade.log"
step "upgraded to $new_version"
for p in ward-agent ward-tray ward-collector wardctl; do
  check "$p is at $new_version" test "$(pkg_version $p)" = "$new_version"
done
check "no enrolment on upgrade" bash -c "! grep -q 'enrolled as device' $t/upgrade.log"
check "same device at the collector" test -n "$device" -a "$(device_ids)" = "$device"
check "store key unchanged" test "$(sha256sum </var/lib/ward/store.key)" = "$key_sum"
check "store kept" test -s /var/lib/ward/events.db
check "policy in force unchanged" test "$(sha256sum </var/lib/ward/policy-in-force.bundle)" = "$policy_sum"
check "collector settings untouched" grep -q "^listen = 127.0.0.1:$port" /etc/ward-collector/collector.conf

# --- Remove: config, state and key stay; what the agent changed is put back. -----------------
apt-get remove -y -q ward-tray ward-agent >"$t/remove.log" 2>&1 || die "remove"
step "agent removed"
check "removal reported the unsent safeguarding events" grep -q "Ward: no safeguarding events" "$t/remove.log"
check "removal restored the OS (USB, settings, exec)" \
  bash -c "grep -q 'Ward restored USB' $t/remove.log && grep -q 'Ward restored settings' $t/remove.log && grep -q 'Ward restored programs' $t/remove.log"
check "the store, its key and the credential stay" test -s /var/lib/ward/events.db -a -s /var/lib/ward/store.key
check "config stays" test -f /etc/ward/agent.conf -a -f /etc/ward/agent.conf.d/50-enrolment.conf
check "the binary is gone" test ! -e /usr/sbin/ward-agent

# --- Reinstall: it continues where it was (no questions, no new enrolment). -----------------
apt_install "$t"/new/ward-agent_*.deb
step "agent reinstalled"
check "reinstall: no new enrolment" bash -c "! grep -q 'enrolled as device' $t/apt.log"
check "reinstall: same store key" test "$(sha256sum </var/lib/ward/store.key)" = "$key_sum"
check "reinstall: still one device" test -n "$device" -a "$(device_ids)" = "$device"
check "reinstall: policy in force" ward-agent --check-config

# --- Purge: state, store, key and enrolment are gone. ---------------------------------------
apt-get purge -y -q ward-agent ward-tray >"$t/purge.log" 2>&1 || die "purge"
step "agent and tray purged"
check "purge: /var/lib/ward gone" test ! -e /var/lib/ward
check "purge: /etc/ward gone" test ! -e /etc/ward
check "purge: debconf forgot ward-agent" bash -c "! debconf-get-selections 2>/dev/null | grep -q '^ward-agent'"

# --- IT's drop-in files instead of debconf. --------------------------------------------------
# The purge deleted the credential: the same laptop enrols again only once IT readmits its
# device (docs/adr/0012-device-trust.md).
wardctl devices readmit "$device" "${staff[@]}" >"$t/readmit.log" 2>&1 || { cat "$t/readmit.log"; die "readmit"; }
secret2=$(as_collector ward-collector enrolment-secret --config "$conf" --group learners) || die "secret 2"
install -d -m 0700 /etc/ward/enrol.d
printf 'https://127.0.0.1:%s\n' "$port" >/etc/ward/enrol.d/collector.url
cp /var/lib/ward-collector/ca.pem /etc/ward/enrol.d/ca.pem
cp /srv/keys/ward-policy.pub /etc/ward/enrol.d/policy.pub
(umask 077 && printf '%s\n' "$secret2" >/etc/ward/enrol.d/secret)
apt_install "$t"/new/ward-agent_*.deb
step "agent installed from IT's drop-in files"
check "drop-in: enrolled" grep -q "enrolled as device .* in group learners; policy 3" "$t/apt.log"
check "drop-in: the files are consumed" test -z "$(ls -A /etc/ward/enrol.d)"
check "drop-in: the same laptop keeps its device id (machine hash)" test -n "$device" -a "$(device_ids)" = "$device"
apt-get purge -y -q ward-agent >"$t/purge.log" 2>&1 || die "purge 2"

# --- The signed apt repository: a new version reaches the laptop with apt-get upgrade. --------
apt-get purge -y -q wardctl >"$t/purge.log" 2>&1 || die "purge wardctl"
ln -sfn repo-prev "$t/repo"
cp "$t/repo-prev/ward-archive-keyring.gpg" /usr/share/keyrings/
cat >/etc/apt/sources.list.d/ward.sources <<EOF
Types: deb
URIs: file://$t/repo
Suites: bookworm
Components: main
Signed-By: /usr/share/keyrings/ward-archive-keyring.gpg
EOF
ward_apt=(-o Dir::Etc::sourcelist=sources.list.d/ward.sources -o Dir::Etc::sourceparts=- -o APT::Get::List-Cleanup=0)
check "apt-get update verifies the repository's signature" bash -c "apt-get ${ward_apt[*]} update >$t/apt.log 2>&1 && ! grep -q NO_PUBKEY $t/apt.log"
apt-get "${ward_apt[@]}" install -y -q wardctl >"$t/apt.log" 2>&1 || { tail "$t/apt.log"; die "install from the repository"; }
check "wardctl $prev_version installed from the repository" test "$(pkg_version wardctl)" = "$prev_version"
ln -sfn repo-new "$t/repo"
apt-get "${ward_apt[@]}" update >"$t/apt.log" 2>&1 || die "apt-get update (new)"
apt-get "${ward_apt[@]}" upgrade -y -q >"$t/apt.log" 2>&1 || die "apt-get upgrade"
check "apt-get upgrade brought wardctl $new_version" test "$(pkg_version wardctl)" = "$new_version"
sed -i 's/^Description: Ward endpoint/Description: Ward endpoinT/' "$t/repo-new/dists/bookworm/InRelease"
check "a tampered InRelease is refused" bash -c "! apt-get ${ward_apt[*]} update >$t/apt.log 2>&1 || grep -qE 'BADSIG|not valid|invalid|not signed' $t/apt.log"
rm -f /etc/apt/sources.list.d/ward.sources /usr/share/keyrings/ward-archive-keyring.gpg
step "signed apt repository: install, upgrade, tamper"

# --- The collector and wardctl go too; nothing may be left. ---------------------------------
kill "$collector_pid" && wait "$collector_pid" 2>/dev/null
apt-get purge -y -q ward-collector wardctl >"$t/purge.log" 2>&1 || die "purge collector"
step "collector and wardctl purged"
check "purge: /var/lib/ward-collector and /etc/ward-collector gone" \
  test ! -e /var/lib/ward-collector -a ! -e /etc/ward-collector
snapshot >"$t/after.txt"
# The collector's system account stays, as Debian keeps system accounts.
leftovers=$(comm -13 "$t/before.txt" "$t/after.txt" | grep -vE '^/etc/(passwd|group|shadow|gshadow)-?$' || true)
missing=$(comm -23 "$t/before.txt" "$t/after.txt" || true)
check "no file left behind" test -z "$leftovers"
[[ -z "$leftovers" ]] || echo "$leftovers" | sed 's/^/        left: /'
check "no file of the base lost" test -z "$missing"
[[ -z "$missing" ]] || echo "$missing" | sed 's/^/        lost: /'

if ((failures > 0)); then
  echo "$failures check(s) failed"
  exit 1
fi
