#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The staff console over a big store (docs/benchmarks.md "Staff console"): a real collector on
# 127.0.0.1 over TLS with 5,000 devices and 10,000 concerns seeded through the storage API,
# the DSL's inbox in Debian's Chromium (Playwright): navigation start to the list on screen,
# and a concern POSTed by a simulated laptop (the device protocol) to the moment it shows in the
# open inbox.
#   Usage: tests/bench/console/console_bench.sh [sqlite|postgres] [devices] [concerns]
#   Needs build/ci and `npm ci` in tests/console.
set -euo pipefail
src=$(cd "$(dirname "$0")/../../.." && pwd)
backend=${1:-sqlite}
devices=${2:-5000}
concerns=${3:-10000}
bin=$src/build/ci
collector=$bin/collector/server/ward-collector
wardctl=$bin/collector/ctl/wardctl
fixture=$bin/tests/console/ward_console_fixture
for b in "$collector" "$wardctl" "$fixture"; do
  [[ -x $b ]] || { echo "console_bench: $b is not built" >&2; exit 1; }
done
[[ -x $src/tests/console/node_modules/.bin/playwright ]] ||
  { echo "console_bench: run 'npm ci' in tests/console first" >&2; exit 1; }

# shellcheck source=tests/e2e/collector_session.sh
source "$src/tests/e2e/collector_session.sh"
e2e_begin console-bench
storage=
if [[ $backend == postgres ]]; then
  start_postgres "$fixture" bench
  storage=postgresql:${pg_conninfo[0]}
fi
dir=$work/collector
"$collector" init --data-dir "$dir" --host 127.0.0.1 >/dev/null
[[ -z $storage ]] || sed -i "s|^storage = .*|storage = $storage|" "$dir/collector.conf"
printf 'console = on\nconsole_dir = %s\n' "$src/collector/console/www" >>"$dir/collector.conf"
"$wardctl" keygen --out-dir "$work/keys" >/dev/null
"$wardctl" policy sign "$src/tests/testdata/policy/sample-under18.json" \
  --key "$work/keys/ward-policy.key" --out "$work/policy.bundle" >/dev/null
"$collector" add-group --data-dir "$dir" --name learners-under-18 \
  --pubkey-file "$work/keys/ward-policy.pub" >/dev/null
token=$("$collector" token create --data-dir "$dir" --role dsl --name "Ms Patel")
it=$("$collector" token create --data-dir "$dir" --role it --name "IT")
secret=$("$collector" enrolment-secret --data-dir "$dir" --group learners-under-18)
store_url=${storage:-sqlite:$dir/collector.db}

start_collector "$dir" "$work/collector.log" --log-level warning
"$wardctl" policy push --group learners-under-18 "$work/policy.bundle" \
  --collector "https://127.0.0.1:$port" --ca "$dir/ca.pem" --token "$it" >/dev/null
started=$(date +%s%N)
"$fixture" seed --storage "$store_url" --group learners-under-18 --devices "$devices" \
  --concerns "$concerns"
echo "seeded in $((($(date +%s%N) - started) / 1000000)) ms ($backend)"

export WARD_URL=https://127.0.0.1:$port WARD_TOKEN_DSL=$token WARD_FIXTURE_BIN=$fixture
export WARD_PORT=$port WARD_CA=$dir/ca.pem WARD_SECRET=$secret WARD_CONSOLE_OUT=$work/playwright
cd "$src/tests/console"
./node_modules/.bin/playwright test --config playwright.bench.config.ts
keep_logs=0
