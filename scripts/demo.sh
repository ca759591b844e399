#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Ward's main job, locally and safely: installs what is missing, builds, and walks through the
# loop in a temporary directory. Everything it starts it stops again, by PID.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

say "setup"
bash scripts/setup-debian.sh

say "build (ci preset)"
cmake --preset ci >/dev/null
cmake --build --preset ci -j "$(nproc)"
bin="$root/build/ci"

work=$(mktemp -d -t ward-demo.XXXXXX)
cleanup() { rm -rf "$work"; }
trap cleanup EXIT
echo "working in $work"

say "the wire contract"
ls "$bin/proto/gen/ward/v1/"

say "enforcement, safely: a program outside the allowlist, then a new policy"
bash scripts/demo-enforcement.sh "$bin/agent/app/ward-agent"

say "done"
