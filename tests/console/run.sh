#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The staff console in a real browser (docs/console.md): Playwright drives Debian's Chromium
# against a real ward-collector on 127.0.0.1 over TLS, with a real ward-agent enrolled to it
# (enforcers off: nothing on this machine is touched) whose concerns a learner sends through
# its socket, as tests/e2e/tray_concern_e2e.sh does. axe checks every page.
#   Usage: tests/console/run.sh sqlite|postgres [screenshot dir] [playwright args...]
#   With a screenshot directory, the pages are saved there as console-*.png (docs/screenshots
#   comes from `tests/console/run.sh sqlite docs/screenshots`).
#   Needs `npm ci` in tests/console (scripts/test.sh runs it) and Debian's chromium
#   (scripts/setup-debian.sh). The binaries come from build/ci unless WARD_COLLECTOR_BIN,
#   WARDCTL_BIN, WARD_AGENT_BIN and WARD_CONSOLE_FIXTURE_BIN name them (ctest does).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
backend=${1:?usage: run.sh sqlite|postgres [screenshot dir] [playwright args...]}
shots=${2:-}
shift $(($# >= 2 ? 2 : 1))
[[ $backend == sqlite || $backend == postgres ]] || { echo "console: backend is sqlite or postgres" >&2; exit 2; }
if [[ -n $shots ]]; then
  mkdir -p "$shots"
  shots=$(cd "$shots" && pwd)
fi
bin=$src/build/ci
collector=${WARD_COLLECTOR_BIN:-$bin/collector/server/ward-collector}
wardctl=${WARDCTL_BIN:-$bin/collector/ctl/wardctl}
agent=${WARD_AGENT_BIN:-$bin/agent/app/ward-agent}
fixture=${WARD_CONSOLE_FIXTURE_BIN:-$bin/tests/console/ward_console_fixture}
chromium=${WARD_CHROMIUM:-/usr/bin/chromium}
for b in "$collector" "$wardctl" "$agent" "$fixture"; do
  [[ -x $b ]] || { echo "console: $b is not built" >&2; exit 1; }
done
[[ -x $chromium ]] || { echo "console: $chromium is missing (scripts/setup-debian.sh installs it)" >&2; exit 1; }
[[ -x $here/node_modules/.bin/playwright ]] ||
  { echo "console: run 'npm ci' in tests/console first (scripts/test.sh does)" >&2; exit 1; }
command -v convert >/dev/null || { echo "console: ImageMagick is missing (scripts/setup-debian.sh)" >&2; exit 1; }

# shellcheck source=tests/e2e/collector_session.sh
source "$src/tests/e2e/collector_session.sh"
e2e_begin console

storage_a=
storage_b=
if [[ $backend == postgres ]]; then
  step "a throwaway PostgreSQL (tests/support/postgres)"
  start_postgres "$fixture" console_a,console_b
  storage_a=postgresql:${pg_conninfo[0]}
  storage_b=postgresql:${pg_conninfo[1]}
fi

step "keys and signed policies: v1 in force, v2 to push, a forged one"
"$wardctl" keygen --out-dir "$work/keys" >/dev/null
"$wardctl" keygen --out-dir "$work/other-keys" >/dev/null
"$wardctl" policy sign "$src/tests/testdata/policy/sample-under18.json" \
  --key "$work/keys/ward-policy.key" --out "$work/policy-v1.bundle" >/dev/null
jq '.version = 2' "$src/tests/testdata/policy/sample-under18.json" >"$work/policy-v2.json"
"$wardctl" policy sign "$work/policy-v2.json" --key "$work/keys/ward-policy.key" \
  --out "$work/policy-v2.bundle" >/dev/null
jq '.version = 3' "$src/tests/testdata/policy/sample-under18.json" >"$work/policy-v3.json"
"$wardctl" policy sign "$work/policy-v3.json" --key "$work/other-keys/ward-policy.key" \
  --out "$work/policy-forged.bundle" >/dev/null

# A collector's data dir: TLS, the console on, the group, staff tokens ($dir/token-<role>).
make_collector() { # <data dir> <storage url or "">
  local dir=$1 storage=$2
  "$collector" init --data-dir "$dir" --host 127.0.0.1 >/dev/null
  if [[ -n $storage ]]; then
    sed -i "s|^storage = .*|storage = $storage|" "$dir/collector.conf"
  fi
  cat >>"$dir/collector.conf" <<CONF
console = on
console_dir = $src/collector/console/www
CONF
  "$collector" add-group --data-dir "$dir" --name learners-under-18 \
    --pubkey-file "$work/keys/ward-policy.pub" >/dev/null
  "$collector" token create --data-dir "$dir" --role dsl --name "Ms Patel" >"$dir/token-dsl"
  "$collector" token create --data-dir "$dir" --role it --name "Sam Okafor" >"$dir/token-it"
  "$collector" token create --data-dir "$dir" --role viewer --name "Governor" >"$dir/token-viewer"
}

step "collector A ($backend), seeded with a small fleet and a few older concerns"
a=$work/collector-a
make_collector "$a" "$storage_a"
"$collector" enrolment-secret --data-dir "$a" --group learners-under-18 >"$work/enrolment.secret"
chmod 0600 "$work/enrolment.secret"
start_collector "$a" "$work/collector-a.log"
url_a=https://127.0.0.1:$port
"$wardctl" policy push --group learners-under-18 "$work/policy-v1.bundle" \
  --collector "$url_a" --ca "$a/ca.pem" --token "$(cat "$a/token-it")" >/dev/null
storage_a_url=${storage_a:-sqlite:$a/collector.db}
"$fixture" seed --storage "$storage_a_url" --group learners-under-18 --devices 14 --concerns 9 \
  >"$work/seed.log"

step "collector B: the same, with sessions that end after 3 s unused"
b=$work/collector-b
make_collector "$b" "$storage_b"
start_collector "$b" "$work/collector-b.log" --console-idle-seconds 3
url_b=https://127.0.0.1:$port

step "ward-agent, enrolled to A, with its socket"
start_agent "$url_a" "$a/ca.pem" "$work/enrolment.secret" "$work/policy-v1.bundle" \
  "$work/keys/ward-policy.pub"
for _ in $(seq 300); do grep -q 'sync: enrolled' "$work/agent.log" && break; sleep 0.1; done

# A learner's screenshot to attach: a made-up chat window (shapes only; no fonts needed).
convert -size 480x270 xc:'#e8eefc' -fill '#3b5bdb' -draw 'rectangle 0,0 480,40' \
  -fill '#ffffff' -draw 'roundrectangle 20,60 300,100 10,10' \
  -draw 'roundrectangle 20,115 360,155 10,10' -fill '#c5d3f7' \
  -draw 'roundrectangle 180,175 460,215 10,10' "$work/shot.png"
chmod 0644 "$work/shot.png"

as_learner=
if [[ $(id -u) -eq 0 ]] && getent passwd 65534 >/dev/null; then
  as_learner="setpriv --reuid=65534 --regid=65534 --clear-groups"
fi

step "Playwright + axe in Chromium ($(${chromium} --version 2>/dev/null | head -n1))"
export WARD_BACKEND=$backend WARD_URL_A=$url_a WARD_URL_B=$url_b
export WARD_TOKEN_DSL=$(cat "$a/token-dsl") WARD_TOKEN_IT=$(cat "$a/token-it")
export WARD_TOKEN_VIEWER=$(cat "$a/token-viewer") WARD_TOKEN_DSL_B=$(cat "$b/token-dsl")
export WARD_AGENT_BIN=$agent WARD_AGENT_CONF=$work/agent.conf WARD_AS_LEARNER=$as_learner
export WARD_SHOT_PNG=$work/shot.png WARD_SHOTS=$shots WARD_CHROMIUM=$chromium
export WARD_BUNDLE_V1=$work/policy-v1.bundle WARD_BUNDLE_V2=$work/policy-v2.bundle
export WARD_BUNDLE_FORGED=$work/policy-forged.bundle
export WARD_CONSOLE_OUT=$work/playwright
cd "$here"
started=$(date +%s)
if ! ./node_modules/.bin/playwright test --config playwright.config.ts "$@"; then
  fail "the browser tests failed"
fi
echo "console: browser tests passed on $backend in $(($(date +%s) - started)) s"
keep_logs=0
