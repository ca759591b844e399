#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Event store (SQLCipher, through the store API) versus the same schema in plain SQLite, side by
# side in one run: events/s for 200-byte events and CRITICAL append latency.
#   tests/bench/store_vs_sqlite.sh [build dir] [events] [rounds]
set -euo pipefail
build=${1:-build/ci}
events=${2:-300000}
rounds=${3:-3}
store_bin="$build/tests/bench/store_bench"
sqlite_bin="$build/tests/bench/store_bench_sqlite"
for b in "$store_bin" "$sqlite_bin"; do
  [[ -x $b ]] || { echo "store_vs_sqlite: $b not built (cmake --build --preset ci --target store_bench store_bench_sqlite)" >&2; exit 1; }
done
value() { sed -n "s/^$1=//p"; }
store_rates=() sqlite_rates=() ratios=() p50s=() p99s=()
for ((r = 1; r <= rounds; r++)); do
  # Alternate the order so neither side always runs on a warmer disk cache.
  if ((r % 2 == 1)); then
    s=$("$store_bin" --events "$events"); q=$("$sqlite_bin" --events "$events")
  else
    q=$("$sqlite_bin" --events "$events"); s=$("$store_bin" --events "$events")
  fi
  store_rates+=("$(value store_events_per_second <<<"$s")")
  sqlite_rates+=("$(value sqlite_events_per_second <<<"$q")")
  ratios+=("$(awk -v a="${store_rates[-1]}" -v b="${sqlite_rates[-1]}" 'BEGIN {printf "%.2f", a / b}')")
  p50s+=("$(value critical_p50_ms <<<"$s")")
  p99s+=("$(value critical_p99_ms <<<"$s")")
  echo "round $r: store ${store_rates[-1]} ev/s, sqlite ${sqlite_rates[-1]} ev/s (ratio ${ratios[-1]}), critical p50 ${p50s[-1]} ms p99 ${p99s[-1]} ms"
done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
ms=$(median "${store_rates[@]}")
mq=$(median "${sqlite_rates[@]}")
echo "event_bytes=$(value event_bytes <<<"$s") events=$events rounds=$rounds"
echo "store ($(sqlcipher --version 2>/dev/null | grep -o 'SQLCipher [0-9.]*' || echo SQLCipher)) median: $ms events/s"
echo "plain SQLite $(value sqlite_version <<<"$q") median: $mq events/s"
echo "ratio store/sqlite: $(awk -v a="$ms" -v b="$mq" 'BEGIN {printf "%.2f", a / b}') (of medians), $(median "${ratios[@]}") (median of rounds)"
echo "CRITICAL append latency median of rounds: p50 $(median "${p50s[@]}") ms, p99 $(median "${p99s[@]}") ms"
