# SPDX-License-Identifier: Apache-2.0
# Shared by tests/bench/exec_cost.sh and tests/bench/agent_idle.sh (sourced, not run).

# marked PID DIR: whether PID holds a fanotify mark (filesystem or mount) on the filesystem at DIR.
marked() {
  local dev mnt
  dev=$(printf '%x' "$(stat -c %d "$2")")
  mnt=$(printf '%x' "$(awk -v d="$2" '$5 == d {print $1}' /proc/self/mountinfo)")
  grep -h -q -E "fanotify (sdev:$dev|mnt_id:$mnt) " /proc/"$1"/fdinfo/* 2>/dev/null
}

# switches PID: voluntary + involuntary context switches of every thread of PID so far.
switches() { cat /proc/"$1"/task/*/status | awk '/ctxt_switches/ {s += $2} END {print s}'; }

# fapolicyd_config TREE PROGRAM SHA256: fapolicyd's configuration in /etc/fapolicyd (the caller
# has replaced /etc by a copy): Debian's fapolicyd.conf from the extracted TREE, permissive, as
# root, watching ramfs only with mount marks, trusting PROGRAM by path, size and digest; rules:
# an allow for trusted programs before Debian's default (90-deny-execute), opens allowed.
fapolicyd_config() {
  mkdir -p /etc/fapolicyd/trust.d /var/lib/fapolicyd /run/fapolicyd
  sed -e 's/^permissive = .*/permissive = 1/' -e 's/^uid = .*/uid = root/' \
    -e 's/^gid = .*/gid = root/' -e 's/^watch_fs = .*/watch_fs = ramfs/' \
    -e 's/^trust = .*/trust = file/' -e 's/^allow_filesystem_mark = .*/allow_filesystem_mark = 0/' \
    "$1/etc/fapolicyd/fapolicyd.conf" >/etc/fapolicyd/fapolicyd.conf
  echo "$2 $(stat -c %s "$2") $3" >/etc/fapolicyd/fapolicyd.trust
  printf '%s\n' 'allow perm=execute all : trust=1' 'deny_audit perm=execute all : all' \
    'allow perm=open all : all' >/etc/fapolicyd/fapolicyd.rules
}
