#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Added cost per exec of a small binary with no agent, under ward-agent (cached decision) and
# under Debian's fapolicyd (permissive), interleaved round by round in one run, in a private
# mount namespace on a ramfs that only this namespace has (root only). Never marks the host's /.
#   usage: tests/bench/exec_cost.sh <path to ward-agent> [execs per round] [rounds]
# fapolicyd is not installed on the machine (installing it would enable its service): its .deb
# is fetched with `apt-get download` into $WARD_BENCH_CACHE (default /var/tmp/ward-bench-cache)
# and run from the extracted tree; its libraries are in scripts/setup-debian.sh. It hardcodes
# /etc/fapolicyd, /var/lib/fapolicyd, /run and /var/log, so in the namespace /etc is replaced by
# a copy and /run, /var/lib, /var/log by empty tmpfs mounts, and its config watches only ramfs
# (`watch_fs = ramfs`; the host has no ramfs mount, so the bench's is the only one it can mark).
set -euo pipefail
agent=${1:?usage: $0 <ward-agent> [execs] [rounds]}
n=${2:-2000}
rounds=${3:-5}
if [[ "${WARD_BENCH_INNER:-}" != 1 ]]; then
  WARD_BENCH_INNER=1 exec unshare -m --propagation private "$0" "$@"
fi
dir=$(mktemp -d -t ward-bench.XXXXXX)
mount -t ramfs ward-bench "$dir"
if grep -v "^ward-bench $dir " /proc/mounts | awk '{print $3}' | grep -qx ramfs; then
  echo "another ramfs is mounted; fapolicyd would watch it too: not running" >&2; exit 1
fi
pid=
fap_pid=
stop_fapolicyd() {
  [[ -n "$fap_pid" ]] || return 0
  kill "$fap_pid" 2>/dev/null || true
  # It takes a few seconds to stop; a second instance must not start before it is gone.
  for _ in $(seq 600); do [[ -d /proc/$fap_pid ]] || break; sleep 0.05; done
  if [[ -d /proc/$fap_pid ]]; then kill -KILL "$fap_pid" 2>/dev/null || true; sleep 0.5; fi
  fap_pid=
}
finish() {
  [[ -n "$pid" ]] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
  stop_fapolicyd
  if [[ -n "$fap" ]]; then
    for m in /etc /run /var/lib /var/log; do mountpoint -q "$m" && umount "$m"; done 2>/dev/null || true
    umount "$fap" 2>/dev/null || true; rmdir "$fap" 2>/dev/null || true
  fi
  umount "$dir"; rmdir "$dir"
}
trap finish EXIT
cp /bin/true "$dir/true"
# A C loop, so the shell's own cost does not drown the exec cost.
cat >"$dir/loop.c" <<'C'
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
int main(int argc, char** argv) {
  int n = atoi(argv[2]);
  struct timespec a, b;
  clock_gettime(CLOCK_MONOTONIC, &a);
  for (int i = 0; i < n; ++i) {
    pid_t p = fork();
    if (p == 0) { execl(argv[1], argv[1], (char*)0); _exit(127); }
    int st; waitpid(p, &st, 0);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) { fprintf(stderr, "exec failed\n"); return 1; }
  }
  clock_gettime(CLOCK_MONOTONIC, &b);
  printf("%.2f\n", ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) / n / 1000.0);
  return 0;
}
C
cc -O2 -o /tmp/ward-bench-loop.$$ "$dir/loop.c"   # the loop runs from outside the marked tmpfs
loop=/tmp/ward-bench-loop.$$
sha=$(sha256sum "$dir/true" | cut -d' ' -f1)
cat >"$dir/policy.json" <<JSON
{"version": 1, "issued_at": "2026-09-01T08:00:00Z", "mode": "MODE_ENFORCE", "name": "bench",
 "audience": "AUDIENCE_ADULT", "aup": {"version": 1, "title": "t", "text_adult": "Be kind."},
 "usb": {"default_action": "USB_ACTION_BLOCK"},
 "apps": {"default_action": "APP_ACTION_BLOCK",
          "rules": [{"id": "allow-true", "action": "APP_ACTION_ALLOW", "sha256": "$sha"}]}}
JSON
printf 'dev_policy_json = %s\nstatus_file = %s\nstore = off\nipc = off\nusb = off\nsettings = off\nexec_mounts = %s\nexec_loaders =\n' \
  "$dir/policy.json" "$dir/agent.status" "$dir" >"$dir/agent.conf"

# Whether PID holds a fanotify mark (filesystem or mount) on the bench's ramfs.
marked() {
  local dev mnt
  dev=$(printf '%x' "$(stat -c %d "$dir")")
  mnt=$(printf '%x' "$(awk -v d="$dir" '$5 == d {print $1}' /proc/self/mountinfo)")
  grep -h -q -E "fanotify (sdev:$dev|mnt_id:$mnt) " /proc/"$1"/fdinfo/* 2>/dev/null
}
start_ward() {
  "$agent" --config "$dir/agent.conf" 2>/dev/null & pid=$!
  for _ in $(seq 100); do grep -q state=running "$dir/agent.status" 2>/dev/null && break; sleep 0.05; done
  marked "$pid" || { echo "ward-agent did not mark $dir" >&2; exit 1; }
}
stop_ward() { kill "$pid"; wait "$pid" || true; pid=; rm -f "$dir/agent.status"; }

# fapolicyd, permissive, trusting the bench's binary by path, size and sha256 (trust = file).
fap=""
fap_reason=""
cache=${WARD_BENCH_CACHE:-/var/tmp/ward-bench-cache}
mkdir -p "$cache"
if ! ls "$cache"/fapolicyd_*.deb >/dev/null 2>&1; then
  (cd "$cache" && apt-get download fapolicyd >"$cache/download.log" 2>&1) ||
    fap_reason="apt-get download fapolicyd failed: $(tail -1 "$cache/download.log")"
fi
if [[ -z "$fap_reason" ]]; then
  fap=$(mktemp -d -t ward-bench-fapolicyd.XXXXXX)
  mount -t tmpfs ward-bench-fap "$fap"
  dpkg -x "$(ls "$cache"/fapolicyd_*.deb | tail -1)" "$fap/root"
  if ldd "$fap/root/usr/sbin/fapolicyd" | grep -q 'not found'; then
    fap_reason="fapolicyd's libraries are missing (scripts/setup-debian.sh)"
  else
    mkdir "$fap/etc"
    cp -a /etc/. "$fap/etc/"
    mount --bind "$fap/etc" /etc
    for d in /run /var/lib /var/log; do mount -t tmpfs ward-bench-fap "$d"; done
    mkdir -p /etc/fapolicyd/trust.d /var/lib/fapolicyd /run/fapolicyd
    sed -e 's/^permissive = .*/permissive = 1/' -e 's/^uid = .*/uid = root/' \
      -e 's/^gid = .*/gid = root/' -e 's/^watch_fs = .*/watch_fs = ramfs/' \
      -e 's/^trust = .*/trust = file/' -e 's/^allow_filesystem_mark = .*/allow_filesystem_mark = 0/' \
      "$fap/root/etc/fapolicyd/fapolicyd.conf" >/etc/fapolicyd/fapolicyd.conf
    echo "$dir/true $(stat -c %s "$dir/true") $sha" >/etc/fapolicyd/fapolicyd.trust
    # Debian's default rule (90-deny-execute) after an allow for trusted programs.
    printf '%s\n' 'allow perm=execute all : trust=1' 'deny_audit perm=execute all : all' \
      'allow perm=open all : all' >/etc/fapolicyd/fapolicyd.rules
  fi
fi
start_fapolicyd() {
  rm -f /run/fapolicyd.pid
  "$fap/root/usr/sbin/fapolicyd" --permissive 2>/dev/null
  for _ in $(seq 600); do [[ -s /run/fapolicyd.pid ]] && break; sleep 0.05; done
  fap_pid=$(cat /run/fapolicyd.pid)
  for _ in $(seq 600); do marked "$fap_pid" && break; sleep 0.05; done
  if ! marked "$fap_pid"; then
    echo "fapolicyd ($fap_pid, $( [[ -d /proc/$fap_pid ]] && echo running || echo gone)) did not mark $dir;" \
      "mounted: $(awk -v d="$dir" '$2 == d {print $3}' /proc/mounts)" >&2
    exit 1
  fi
}

# CPU time (ns) every thread of PID has run: a cost figure that scheduling delays on a loaded
# machine do not inflate, unlike the wall-clock per exec.
cpu_ns() { cat /proc/"$1"/task/*/schedstat | awk '{s += $1} END {printf "%d", s}'; }
# round_under START STOP PID-VAR TIMES-ARRAY CPU-ARRAY RSS-VAR: one round of execs under a daemon.
round_under() {
  local -n daemon=$3 times=$4 cpus=$5 mem=$6
  "$1"
  local c0
  c0=$(cpu_ns "$daemon")
  times+=("$("$loop" "$dir/true" "$n")")
  cpus+=("$(awk -v a="$c0" -v b="$(cpu_ns "$daemon")" -v n="$n" 'BEGIN {printf "%.2f", (b - a) / n / 1000}')")
  [[ -n "$mem" ]] || mem=$(awk '/VmRSS/ {print $2}' "/proc/$daemon/status")
  "$2"
}
without=(); with=(); with_fap=(); cpu=(); cpu_fap=(); rss=; fap_rss=
for r in $(seq "$rounds"); do
  without+=("$("$loop" "$dir/true" "$n")")
  round_under start_ward stop_ward pid with cpu rss
  [[ -n "$fap_reason" ]] || round_under start_fapolicyd stop_fapolicyd fap_pid with_fap cpu_fap fap_rss
done
rm -f "$loop"
# Idle wake-ups: context switches of every agent thread over 10 s with nothing happening.
# idle_under START STOP PID-VAR SWITCHES-VAR THREADS-VAR: context switches of every thread of an
# idle daemon in 10 s, and its thread count.
switches() { cat /proc/"$1"/task/*/status | awk '/ctxt_switches/ {s += $2} END {print s}'; }
idle_under() {
  local -n daemon=$3 count=$4 nthreads=$5
  "$1"
  sleep 1
  local before
  before=$(switches "$daemon"); sleep 10
  count=$(($(switches "$daemon") - before))
  nthreads=$(ls /proc/"$daemon"/task | wc -l)
  "$2"
}
idle_under start_ward stop_ward pid idle threads
[[ -n "$fap_reason" ]] || idle_under start_fapolicyd stop_fapolicyd fap_pid fap_idle fap_threads
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
mw=$(median "${without[@]}"); mi=$(median "${with[@]}")
echo "execs per round: $n, rounds: $rounds (median of rounds, microseconds per fork+exec+wait)"
echo "no agent:            $mw"
echo "ward-agent (cached): $mi"
awk -v a="$mw" -v b="$mi" 'BEGIN {printf "added per exec:      %.2f us (ratio %.3f)\n", b - a, b / a}'
if [[ -z "$fap_reason" ]]; then
  mf=$(median "${with_fap[@]}")
  echo "fapolicyd (permissive): $mf"
  awk -v a="$mw" -v b="$mf" 'BEGIN {printf "added per exec:      %.2f us (ratio %.3f)\n", b - a, b / a}'
else
  echo "fapolicyd: not measured: $fap_reason"
fi
echo "rounds (no agent / ward / fapolicyd): ${without[*]} / ${with[*]} / ${with_fap[*]:-}"
echo "agent CPU per exec (median of rounds, all threads, schedstat): ward-agent $(median "${cpu[@]}") us, fapolicyd $( [[ -z "$fap_reason" ]] && median "${cpu_fap[@]}" || echo -) us"
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "ward-agent RSS after $n execs: ${rss} kB"
echo "ward-agent idle: $idle context switches in 10 s across $threads threads"
if [[ -z "$fap_reason" ]]; then
  echo "fapolicyd RSS after $n execs: ${fap_rss} kB"
  echo "fapolicyd idle: $fap_idle context switches in 10 s across $fap_threads threads"
fi
