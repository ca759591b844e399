#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Added cost per exec of a small binary under ward-agent (cached decision) against no agent,
# measured side by side in one run, in a private mount namespace on a tmpfs (root only).
#   usage: tests/bench/exec_cost.sh <path to ward-agent> [execs per round] [rounds]
set -euo pipefail
agent=${1:?usage: $0 <ward-agent> [execs] [rounds]}
n=${2:-2000}
rounds=${3:-5}
if [[ "${WARD_BENCH_INNER:-}" != 1 ]]; then
  WARD_BENCH_INNER=1 exec unshare -m --propagation private "$0" "$@"
fi
dir=$(mktemp -d -t ward-bench.XXXXXX)
mount -t tmpfs -o size=16m ward-bench "$dir"
pid=
finish() {
  [[ -n "$pid" ]] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
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

without=(); with=()
for r in $(seq "$rounds"); do
  without+=("$("$loop" "$dir/true" "$n")")
  "$agent" --config "$dir/agent.conf" 2>/dev/null & pid=$!
  for _ in $(seq 100); do grep -q state=running "$dir/agent.status" 2>/dev/null && break; sleep 0.05; done
  with+=("$("$loop" "$dir/true" "$n")")
  [[ $r == 1 ]] && rss=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")
  kill "$pid"; wait "$pid" || true; pid=
  rm -f "$dir/agent.status"
done
rm -f "$loop"
# Idle wake-ups: context switches of every agent thread over 10 s with nothing happening.
"$agent" --config "$dir/agent.conf" 2>/dev/null & pid=$!
for _ in $(seq 100); do grep -q state=running "$dir/agent.status" 2>/dev/null && break; sleep 0.05; done
sleep 1
switches() { cat /proc/"$pid"/task/*/status | awk '/ctxt_switches/ {s += $2} END {print s}'; }
before=$(switches); sleep 10; after=$(switches)
threads=$(ls /proc/"$pid"/task | wc -l)
kill "$pid"; wait "$pid" || true; pid=
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
mw=$(median "${without[@]}"); mi=$(median "${with[@]}")
echo "execs per round: $n, rounds: $rounds (median of rounds, microseconds per fork+exec+wait)"
echo "no agent:            $mw"
echo "ward-agent (cached): $mi"
awk -v a="$mw" -v b="$mi" 'BEGIN {printf "added per exec:      %.2f us (ratio %.3f)\n", b - a, b / a}'
echo "ward-agent RSS after $n execs: ${rss} kB"
echo "idle: $((after - before)) context switches in 10 s across $threads threads"
