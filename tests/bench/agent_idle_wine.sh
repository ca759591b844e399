#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Idle memory and CPU of the Windows agent (ward-agent.exe --console under Wine, in a fresh Wine
# prefix of its own) beside the Linux ward-agent, in one run, with the same configuration: the
# signed sample-under18 policy, the encrypted store, the IPC endpoint (a named pipe / a Unix
# socket), enforcers off (the Windows agent has none yet: the comparison is like for like) and
# sync enrolled with one real ward-collector on 127.0.0.1 (its policy long-poll open).
# After both are enrolled and WARD_BENCH_SETTLE seconds (default 5), over IDLE seconds: RSS and
# Private memory of the agent's process (/proc/PID/status VmRSS, smaps_rollup Private_*) and its
# CPU time (utime+stime from /proc/PID/stat, all threads). Under Wine the process is the one
# running ward-agent.exe (Wine's own DLLs count in it); wineserver and Wine's services are
# listed apart, since a real Windows has its own equivalents.
# Give it a stripped ward-agent.exe (x86_64-w64-mingw32-strip), as a package ships it: Wine
# reads the PE file's DWARF sections into private memory, ~55 MB for the unstripped build.
#   usage: tests/bench/agent_idle_wine.sh <ward-agent> <ward-agent.exe> <wardctl> <ward-collector> [idle seconds]
set -euo pipefail
agent=$(realpath "$1")
agent_exe=$(realpath "$2")
wardctl=$(realpath "$3")
collector=$(realpath "$4")
idle=${5:-30}
settle=${WARD_BENCH_SETTLE:-5}
src=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=tests/e2e/collector_session.sh
source "$src/tests/e2e/collector_session.sh"
# shellcheck source=tests/e2e/wine_agent_session.sh
source "$src/tests/e2e/wine_agent_session.sh"
e2e_begin agent_idle_wine
wine_prefix_begin

start_group_collector g

# Linux: the e2e helper's agent (enforcers off).
"$collector" enrolment-secret --data-dir "$cdir" --group g >"$work/secret"
chmod 0600 "$work/secret"
start_agent "$url" "$cdir/ca.pem" "$work/secret" "$work/policy.bundle" "$work/keys/ward-policy.pub"
linux_pid=${pids[-1]}

# Windows: the same keys in C:\ward.
wine_agent_files g ward-agent-bench 'usb = off' 'exec = off' 'settings = off'
wine "$agent_exe" --console --config 'C:\ward\agent.conf' </dev/null >/dev/null 2>"$work/agent-wine.log" &
pids+=($!)
win_pid=""
for _ in $(seq 300); do
  win_pid=$(pgrep -f 'ward-agent\.exe --console' | head -1 || true)
  [[ -n $win_pid ]] && grep -q 'sync: enrolled' "$work/agent-wine.log" && break
  sleep 0.1
done
grep -q 'sync: enrolled' "$work/agent-wine.log" || fail "the Windows agent did not enrol"
for _ in $(seq 100); do grep -q 'sync: enrolled' "$work/agent.log" && break; sleep 0.1; done
sleep "$settle"

ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
kb() { awk -v k="$2:" '$1 == k {print $2}' "/proc/$1/status"; }
private_kb() { awk '/^Private_(Clean|Dirty):/ {s += $2} END {print s}' "/proc/$1/smaps_rollup"; }
# This prefix's wineserver (others may run on the machine).
server_pid=""
for p in $(pgrep wineserver || true); do
  tr '\0' '\n' <"/proc/$p/environ" 2>/dev/null | grep -qxF "WINEPREFIX=$WINEPREFIX" && server_pid=$p
done
[[ -n $server_pid ]] || fail "this prefix's wineserver was not found"
declare -A before
for p in "$linux_pid" "$win_pid" "$server_pid"; do before[$p]=$(ticks "$p"); done
sleep "$idle"
hz=$(getconf CLK_TCK)
printf '%-28s %10s %12s %14s\n' process "RSS (KB)" "private (KB)" "CPU ms / ${idle} s"
row() { printf '%-28s %10s %12s %14s\n' "$1" "$(kb "$2" VmRSS)" "$(private_kb "$2")" \
  "$(( ($(ticks "$2") - ${before[$2]}) * 1000 / hz ))"; }
row "ward-agent (Linux)" "$linux_pid"
row "ward-agent.exe (Wine)" "$win_pid"
row "wineserver (Wine itself)" "$server_pid"
keep_logs=0
