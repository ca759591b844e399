#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Added cost per exec of a small binary under ward-agent (cached decision) and under Debian's
# fapolicyd (permissive), against no agent, in one run, in a private mount namespace on a ramfs
# that only this namespace has (root only). Never marks the host's /. ward-agent runs three ways:
#   ward-agent   the default: the kernel answers the allowed program itself (exec_kernel_cache)
#   agent-cache  exec_kernel_cache = off: every exec is a permission event the agent answers from
#                its own decision cache
#   loader       the default, with a dynamic loader watched (exec_loaders), as on a laptop: the
#                watched program is a copy of `true` whose PT_INTERP names a loader copy, both on
#                a tmpfs of their own (the kernel cache follows exec notifications there, which
#                ramfs cannot give), so each exec also raises the loader's event; the twin stays
#                plain `true`
#   usage: tests/bench/exec_cost.sh <path to ward-agent> [exec pairs per loop] [rounds]
# Noise: each loop execs the watched copy of `true` (on the ramfs) and an identical unwatched
# twin (on a tmpfs nobody marks) alternately, A B B A ..., timing every exec; the added cost is
# median(watched) - median(twin) of the same loop, so a change in the machine's load hits both
# halves alike. Rounds run no agent, ward-agent, fapolicyd, no agent, ...; the no-agent loops
# give the ramfs-vs-tmpfs bias, which is subtracted. Medians over rounds are reported, with
# the daemon's own CPU per exec (schedstat; utime/stime from /proc/<pid>/stat as well).
#   WARD_BENCH_CPU=N   pin the loop and both daemons to CPU N (taskset)
#   WARD_BENCH_STRACE=1  also count each daemon's system calls per exec (strace -f -c)
# fapolicyd is not installed on the machine (installing it would enable its service): its .deb
# is fetched with `apt-get download` into $WARD_BENCH_CACHE (default /var/tmp/ward-bench-cache)
# and run from the extracted tree; its libraries are in scripts/setup-debian.sh. It hardcodes
# /etc/fapolicyd, /var/lib/fapolicyd, /run and /var/log, so in the namespace /etc is replaced by
# a copy and /run, /var/lib, /var/log by empty tmpfs mounts, and its config watches only ramfs
# (`watch_fs = ramfs`; the host has no ramfs mount, so the bench's is the only one it can mark).
set -euo pipefail
source "$(dirname "$0")/daemon_bench_lib.sh"
agent=${1:?usage: $0 <ward-agent> [execs] [rounds]}
n=${2:-2000}
rounds=${3:-5}
if [[ "${WARD_BENCH_INNER:-}" != 1 ]]; then
  WARD_BENCH_INNER=1 exec unshare -m --propagation private "$0" "$@"
fi
dir=$(mktemp -d -t ward-bench.XXXXXX)
mount -t ramfs ward-bench "$dir"
twin_dir=$(mktemp -d -t ward-bench-twin.XXXXXX)
mount -t tmpfs ward-bench-twin "$twin_dir"
fap=""
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
  umount "$twin_dir"; rmdir "$twin_dir"
  [[ -z "${ld_dir:-}" ]] || { umount "$ld_dir"; rmdir "$ld_dir"; }
}
trap finish EXIT
cp /bin/true "$dir/true"
cp /bin/true "$twin_dir/true"
# The loader variant: the loader copy's path must be as long as the system loader's to patch it
# into the program's PT_INTERP.
system_loader=$(readelf -l /bin/true | sed -n 's/.*Requesting program interpreter: \(.*\)]/\1/p')
ld_dir=$(mktemp -d -t ward-ld.XXXXXX)
mount -t tmpfs ward-bench-ld "$ld_dir"
name_length=$((${#system_loader} - ${#ld_dir} - 1))
loader_copy="$ld_dir/ld$(printf '%*s' $((name_length - 2)) '' | tr ' ' x)"
loader_reason=""
if ((name_length < 2)) || [[ ${#loader_copy} -ne ${#system_loader} ]]; then
  loader_reason="$ld_dir is too long to hold a loader named as long as $system_loader (TMPDIR)"
else
  cp "$system_loader" "$loader_copy"
  python3 - "$dir/true" "$ld_dir/ptrue" "$system_loader" "$loader_copy" <<'PY'
import sys
src, dst, old, new = sys.argv[1:]
image = open(src, 'rb').read()
assert image.count(old.encode() + b'\0') == 1
open(dst, 'wb').write(image.replace(old.encode() + b'\0', new.encode() + b'\0'))
PY
  chmod 0755 "$ld_dir/ptrue"
fi
# A C loop, so the shell's own cost does not drown the exec cost: N pairs of fork+exec+wait of
# A (watched) and B (its unwatched twin), in the order A B B A A B ..., each timed. It prints,
# in microseconds: median A, median B, mean A, mean B, and the CPU per exec of A's and of B's
# children (wait4 rusage: the exec side, where the kernel raises the permission event).
cat >"$dir/loop.c" <<'C'
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
static double run(const char* path, double* cpu) {
  struct timespec a, b;
  struct rusage u;
  int st;
  clock_gettime(CLOCK_MONOTONIC, &a);
  pid_t p = fork();
  if (p == 0) { execl(path, path, (char*)0); _exit(127); }
  wait4(p, &st, 0, &u);
  clock_gettime(CLOCK_MONOTONIC, &b);
  if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) { fprintf(stderr, "exec failed\n"); exit(1); }
  *cpu += (u.ru_utime.tv_sec + u.ru_stime.tv_sec) * 1e6 + u.ru_utime.tv_usec + u.ru_stime.tv_usec;
  return ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) / 1000.0;
}
static int cmp(const void* x, const void* y) {
  double a = *(const double*)x, b = *(const double*)y;
  return (a > b) - (a < b);
}
int main(int argc, char** argv) {
  int n = atoi(argv[3]);
  double* ta = malloc(n * sizeof(double));
  double* tb = malloc(n * sizeof(double));
  double ca = 0, cb = 0, sa = 0, sb = 0;
  for (int i = 0; i < n; ++i) {
    if (i % 2 == 0) { ta[i] = run(argv[1], &ca); tb[i] = run(argv[2], &cb); }
    else { tb[i] = run(argv[2], &cb); ta[i] = run(argv[1], &ca); }
    sa += ta[i]; sb += tb[i];
  }
  qsort(ta, n, sizeof(double), cmp);
  qsort(tb, n, sizeof(double), cmp);
  printf("%.2f %.2f %.2f %.2f %.2f %.2f\n", ta[n / 2], tb[n / 2], sa / n, sb / n, ca / n, cb / n);
  return 0;
}
C
cc -O2 -o /tmp/ward-bench-loop.$$ "$dir/loop.c"   # the loop runs from outside the marked tmpfs
loop=/tmp/ward-bench-loop.$$
sha=$(sha256sum "$dir/true" | cut -d' ' -f1)
psha=$( [[ -n "$loader_reason" ]] && echo "$sha" || sha256sum "$ld_dir/ptrue" | cut -d' ' -f1)
cat >"$dir/policy.json" <<JSON
{"version": 1, "issued_at": "2026-09-01T08:00:00Z", "mode": "MODE_ENFORCE", "name": "bench",
 "audience": "AUDIENCE_ADULT", "aup": {"version": 1, "title": "t", "text_adult": "Be kind."},
 "usb": {"default_action": "USB_ACTION_BLOCK"},
 "apps": {"default_action": "APP_ACTION_BLOCK",
          "rules": [{"id": "allow-true", "action": "APP_ACTION_ALLOW", "sha256": "$sha"},
                    {"id": "allow-ptrue", "action": "APP_ACTION_ALLOW", "sha256": "$psha"}]}}
JSON
write_conf() {  # write_conf FILE MOUNTS KERNEL-CACHE LOADERS
  printf 'dev_policy_json = %s\nstatus_file = %s\nstore = off\nipc = off\nusb = off\nsettings = off\nexec_mounts = %s\nexec_loaders = %s\nexec_kernel_cache = %s\n' \
    "$dir/policy.json" "$dir/agent.status" "$2" "$4" "$3" >"$1"
}
write_conf "$dir/agent.conf" "$dir" on ""
write_conf "$dir/agent-cache.conf" "$dir" off ""
write_conf "$dir/agent-loader.conf" "$dir,$ld_dir" on "$loader_copy"
conf=$dir/agent.conf     # what start_ward runs
target=$dir/true         # what the loop execs (its twin is always plain `true`)

# Optional pinning: WARD_BENCH_CPU=N runs the loop and both daemons on CPU N only, so the answer
# does not wait for the other core and no cross-CPU wake-up is paid.
pin=()
[[ -z "${WARD_BENCH_CPU:-}" ]] || pin=(taskset -c "$WARD_BENCH_CPU")
start_ward() {
  "${pin[@]}" "$agent" --config "$conf" 2>/dev/null & pid=$!
  for _ in $(seq 100); do grep -q state=running "$dir/agent.status" 2>/dev/null && break; sleep 0.05; done
  marked "$pid" "$dir" || { echo "ward-agent did not mark $dir" >&2; exit 1; }
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
    fapolicyd_config "$fap/root" "$dir/true" "$sha"
  fi
fi
start_fapolicyd() {
  rm -f /run/fapolicyd.pid
  "${pin[@]}" "$fap/root/usr/sbin/fapolicyd" --permissive 2>/dev/null
  for _ in $(seq 600); do [[ -s /run/fapolicyd.pid ]] && break; sleep 0.05; done
  fap_pid=$(cat /run/fapolicyd.pid)
  for _ in $(seq 600); do marked "$fap_pid" "$dir" && break; sleep 0.05; done
  if ! marked "$fap_pid" "$dir"; then
    echo "fapolicyd ($fap_pid, $( [[ -d /proc/$fap_pid ]] && echo running || echo gone)) did not mark $dir;" \
      "mounted: $(awk -v d="$dir" '$2 == d {print $3}' /proc/mounts)" >&2
    exit 1
  fi
}

# CPU time (ns) every thread of PID has run: a cost figure that scheduling delays on a loaded
# machine do not inflate, unlike the wall-clock per exec.
cpu_ns() { cat /proc/"$1"/task/*/schedstat | awk '{s += $1} END {printf "%d", s}'; }
# utime and stime of PID (all threads), clock ticks, from /proc/PID/stat (after the ")").
ticks() { sed 's/.*) //' /proc/"$1"/stat | awk '{print $12, $13}'; }
hz=$(getconf CLK_TCK)
sub() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a - b}'; }
# One loop of N pairs under whatever runs now; appends to the arrays PREFIX_added (median A -
# median B), PREFIX_mean (mean A - mean B), PREFIX_side (exec side CPU, A - B) and PREFIX_base
# (median B: a plain fork+exec+wait at this moment).
measure() {
  local -n added=${1}_added mean=${1}_mean side=${1}_side base=${1}_base
  local o
  read -r -a o <<<"$("${pin[@]}" "$loop" "$target" "$twin_dir/true" "$n")"
  added+=("$(sub "${o[0]}" "${o[1]}")"); mean+=("$(sub "${o[2]}" "${o[3]}")")
  side+=("$(sub "${o[4]}" "${o[5]}")"); base+=("${o[1]}")
}
# round_under START STOP PID-VAR PREFIX RSS-VAR: one loop under a daemon; also appends the
# daemon's CPU per watched exec to PREFIX_cpu (schedstat) and PREFIX_user / PREFIX_sys (stat).
round_under() {
  local -n daemon=$3 mem=$5 user=${4}_user sys=${4}_sys cpus=${4}_cpu
  "$1"
  local c0 t0 t1
  c0=$(cpu_ns "$daemon"); t0=$(ticks "$daemon")
  measure "$4"
  cpus+=("$(awk -v a="$c0" -v b="$(cpu_ns "$daemon")" -v n="$n" 'BEGIN {printf "%.2f", (b - a) / n / 1000}')")
  t1=$(ticks "$daemon")
  user+=("$(awk -v a="${t0% *}" -v b="${t1% *}" -v n="$n" -v hz="$hz" 'BEGIN {printf "%.1f", (b - a) * 1e6 / hz / n}')")
  sys+=("$(awk -v a="${t0#* }" -v b="${t1#* }" -v n="$n" -v hz="$hz" 'BEGIN {printf "%.1f", (b - a) * 1e6 / hz / n}')")
  [[ -n "$mem" ]] || mem=$(awk '/VmRSS/ {print $2}' "/proc/$daemon/status")
  "$2"
}
none_added=(); none_mean=(); none_side=(); none_base=()
for v in ward kc ld fap; do
  for a in added mean side base cpu user sys; do eval "${v}_$a=()"; done
done
rss=; kc_rss=; ld_rss=; fap_rss=
for _ in $(seq "$rounds"); do
  measure none
  round_under start_ward stop_ward pid ward rss
  conf=$dir/agent-cache.conf round_under start_ward stop_ward pid kc kc_rss
  if [[ -z "$loader_reason" ]]; then
    conf=$dir/agent-loader.conf target=$ld_dir/ptrue round_under start_ward stop_ward pid ld ld_rss
  fi
  [[ -n "$fap_reason" ]] || round_under start_fapolicyd stop_fapolicyd fap_pid fap fap_rss
done

# WARD_BENCH_STRACE=1: system calls per exec of each daemon, counted by `strace -f -c` attached
# (all threads) for one loop of N execs after the daemon is up, detached before it stops.
strace_under() {
  local -n daemon=$3
  "$1"
  local out=$dir/strace.$4
  strace -f -c -o "$out" -p "$daemon" 2>/dev/null & local tracer=$!
  sleep 1
  "${pin[@]}" "$loop" "$target" "$twin_dir/true" "$n" >/dev/null
  kill -INT "$tracer"; wait "$tracer" || true
  "$2"
  echo "$4: system calls per exec (strace -f -c, $n execs)"
  awk -v n="$n" '$1 ~ /^[0-9.]+$/ && $NF != "total" {printf "  %-18s %6.2f\n", $NF, $4 / n; s += $4}
    END {printf "  %-18s %6.2f\n", "all", s / n}' "$out"
}
if [[ "${WARD_BENCH_STRACE:-}" == 1 ]]; then
  strace_under start_ward stop_ward pid ward-agent
  conf=$dir/agent-cache.conf strace_under start_ward stop_ward pid agent-cache
  [[ -n "$loader_reason" ]] || conf=$dir/agent-loader.conf target=$ld_dir/ptrue strace_under start_ward stop_ward pid loader
  [[ -n "$fap_reason" ]] || strace_under start_fapolicyd stop_fapolicyd fap_pid fapolicyd
fi
rm -f "$loop"

# Idle wake-ups: context switches of every thread of an idle daemon in 10 s, and its threads.
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

median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
# row LABEL ARRAY-SUFFIX [minus-none]: medians over rounds for each column.
row() {
  local cells=() v x
  for v in ward kc ld fap; do
    x=-
    if { [[ $v != fap ]] || [[ -z "$fap_reason" ]]; } && { [[ $v != ld ]] || [[ -z "$loader_reason" ]]; }; then
      x=$(eval median "\${${v}_$2[@]}")
      [[ "${3:-}" != minus-none ]] || x=$(sub "$x" "$(eval median "\${none_$2[@]}")")
    fi
    cells+=("$x")
  done
  printf '%-44s %11s %11s %11s %11s\n' "$1" "${cells[@]}"
}
echo "exec pairs per loop: $n, rounds: $rounds, pinned: ${WARD_BENCH_CPU:-no}; microseconds, medians over rounds"
printf '%-44s %11s %11s %11s %11s\n' "" "ward-agent" "agent-cache" "loader" "fapolicyd"
row "added per exec (median exec, twin-paired)" added minus-none
row "added per exec (mean exec, twin-paired)" mean minus-none
row "daemon CPU per exec (schedstat)" cpu
row "daemon user CPU per exec (stat, ticks)" user
row "daemon system CPU per exec (stat, ticks)" sys
row "exec side CPU added per exec (wait4)" side minus-none
echo "no agent: plain fork+exec+wait $(median "${none_base[@]}"); watched-minus-twin bias $(median "${none_added[@]}") (median), $(median "${none_mean[@]}") (mean)"
echo "ratio to a plain fork+exec+wait (added / plain): ward-agent $(awk -v a="$(median "${ward_added[@]}")" -v z="$(median "${none_added[@]}")" -v b="$(median "${ward_base[@]}")" 'BEGIN {printf "%.3f", 1 + (a - z) / b}')$( [[ -n "$fap_reason" ]] || echo ", fapolicyd $(awk -v a="$(median "${fap_added[@]}")" -v z="$(median "${none_added[@]}")" -v b="$(median "${fap_base[@]}")" 'BEGIN {printf "%.3f", 1 + (a - z) / b}')")"
[[ -z "$fap_reason" ]] || echo "fapolicyd: not measured: $fap_reason"
echo "per loop, median watched - median twin: no agent ${none_added[*]}"
echo "  ward-agent ${ward_added[*]}"
echo "  agent-cache ${kc_added[*]}"
[[ -n "$loader_reason" ]] && echo "  loader: not measured: $loader_reason" || echo "  loader ${ld_added[*]}"
[[ -n "$fap_reason" ]] || echo "  fapolicyd ${fap_added[*]}"
echo "per loop, plain fork+exec+wait (twin): ${none_base[*]} / ${ward_base[*]} / ${fap_base[*]:-}"
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "ward-agent RSS after $n execs: ${rss} kB (agent-cache ${kc_rss} kB, loader ${ld_rss:--} kB); idle: $idle context switches in 10 s across $threads threads"
if [[ -z "$fap_reason" ]]; then
  echo "fapolicyd RSS after $n execs: ${fap_rss} kB; idle: $fap_idle context switches in 10 s across $fap_threads threads"
fi
