#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Runs every test: installs what is missing, builds with the `ci` preset (warnings are errors),
# runs every ctest label, smoke-runs each libFuzzer target, and checks formatting.
# Environment: WARD_REQUIRE_ROOT_TESTS=1 turns a skipped root-only test into a failure (CI sets
# it); WARD_FUZZ_SECONDS (default 30) is how long each fuzzer runs.
set -euo pipefail
cd "$(dirname "$0")/.."

jobs=$(nproc)
step() { printf '\n== %s\n' "$*"; }

step "setup"
bash scripts/setup-debian.sh

step "format check (clang-format-19)"
mapfile -t sources < <(git ls-files '*.cpp' '*.h' '*.cc')
if [[ ${#sources[@]} -gt 0 ]]; then
  clang-format-19 --dry-run --Werror "${sources[@]}"
fi
echo "formatting ok (${#sources[@]} files)"

step "build (ci preset)"
cmake --preset ci >/dev/null
cmake --build --preset ci -j "$jobs"

step "tests (every label)"
ctest --preset ci -j "$jobs" --timeout 900

step "fuzzers (fuzz preset, clang-19 + libFuzzer, ${WARD_FUZZ_SECONDS:-30} s each)"
WARD_FUZZ_SECONDS=${WARD_FUZZ_SECONDS:-30} cmake --preset fuzz >/dev/null
cmake --build --preset fuzz -j "$jobs"
ctest --preset fuzz -j "$jobs"

step "all tests passed"
