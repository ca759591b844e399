#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Runs every test: installs what is missing, builds with the `ci` preset (warnings are errors),
# runs every ctest label, then the parsers and network-facing tests under ASan + UBSan and the
# threaded ones under TSan (docs/testing.md), and the staff console's browser tests in their own
# timed stage (after `npm ci` and the type check); builds and tests the Debian packages
# (scripts/test-debs.sh), cross-builds for Windows and runs those tests under Wine, smoke-runs
# each libFuzzer target, and checks formatting.
# Environment: WARD_REQUIRE_ROOT_TESTS=1 turns a skipped root-only test into a failure (CI sets
# it); WARD_FUZZ_SECONDS (default 30) is how long each fuzzer runs.
set -euo pipefail
cd "$(dirname "$0")/.."

jobs=$(nproc)
# Each stage prints its name, and its time when the next one starts (CI's budget is per stage).
stage=""
stage_start=$SECONDS
step() {
  if [[ -n $stage ]]; then
    printf '== %s: %d s\n' "$stage" $((SECONDS - stage_start))
  fi
  stage="$*"
  stage_start=$SECONDS
  printf '\n== %s\n' "$stage"
}

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

step "tests (every label but browser)"
ctest --preset ci -j "$jobs" --timeout 900 -LE browser

# Sanitizer stages: only the programs that parse untrusted bytes or face the network (ASan +
# UBSan), and the threaded ones (TSan), so each stays a few minutes on a warm ccache. Options
# (detect_leaks=1, UBSan halting on the first error) are in the presets' test environment;
# docs/testing.md says how to run them locally and what each leaves out, and why.
step "asan+ubsan (asan preset: parsers and network-facing tests, unit + integration)"
asan_tests=(ward_common_tests ward_proto_tests ward_policy_tests ward_collector_storage_tests
            ward_collector_server_tests ward_agent_ipc_tests ward_agent_store_tests)
cmake --preset asan >/dev/null
cmake --build --preset asan -j "$jobs" --target "${asan_tests[@]}"
# Only these programs' tests (not those of the helpers they build, e.g. ward_agent_sync_tests).
# The out-of-descriptors test leaves the process no descriptor for 2 s, and UBSan's vptr check
# then reports a valid object as invalid (docs/testing.md): it runs in the main stage only.
bash scripts/ctest-programs.sh asan --exclude 'HttpServerTest\.Regression_Issue14_OutOfDescriptorsDoesNotSpin' \
  "${asan_tests[@]}" -- -j "$jobs" --timeout 900

step "tsan (tsan preset: IPC server, agent core, collector server)"
tsan_tests=(ward_agent_ipc_tests ward_agent_core_tests ward_collector_server_tests)
cmake --preset tsan >/dev/null
cmake --build --preset tsan -j "$jobs" --target "${tsan_tests[@]}"
bash scripts/ctest-programs.sh tsan "${tsan_tests[@]}" -- -j "$jobs" --timeout 900

step "browser tests (the staff console in Chromium: npm ci, tsc --checkJs, ctest -L browser)"
browser_started=$(date +%s)
# npm's own cache, kept between runs; the lock file pins every package.
export npm_config_cache=/var/cache/ward/npm
(cd tests/console && npm ci --no-audit --no-fund --loglevel=error)
bash tests/console/check_vendored.sh
(cd tests/console && ./node_modules/.bin/tsc -p tsconfig.json)
echo "tsc --checkJs: no type errors"
ctest --preset ci -L browser --timeout 900
echo "browser stage took $(($(date +%s) - browser_started)) s"

step "debian packages (scripts/test-debs.sh: build, lintian, chroot, QEMU guest)"
bash scripts/test-debs.sh build/ci

step "windows (mingw-w64 cross build from Debian's sources; tests under Wine)"
# The dependency prefix is cached under /var/cache/ward/windows: seconds when nothing changed.
bash scripts/build-windows-deps.sh
# The Windows agent's sync test runs the Linux build's ward-collector and wardctl (built above).
# WARD_BUILD_AGENT and WARD_BUILD_TRAY ON also for a build directory configured when they
# defaulted to OFF on Windows.
cmake --preset windows -DWARD_BUILD_AGENT=ON -DWARD_BUILD_TRAY=ON -DWARD_LINUX_BUILD_DIR="$PWD/build/ci" >/dev/null
cmake --build --preset windows -j "$jobs"
# The ctest fixture `wine` starts a private Wine session (Xvfb + a persistent wineserver) before
# the tests and stops it after them; stopping it again here covers an interrupted ctest.
trap 'bash scripts/wine-session.sh stop build/windows/wine >/dev/null 2>&1 || true' EXIT
ctest --preset windows -j "$jobs" --timeout 900
bash scripts/wine-session.sh stop build/windows/wine >/dev/null
trap - EXIT

step "fuzzers (fuzz preset, clang-19 + libFuzzer, ${WARD_FUZZ_SECONDS:-30} s each)"
WARD_FUZZ_SECONDS=${WARD_FUZZ_SECONDS:-30} cmake --preset fuzz >/dev/null
cmake --build --preset fuzz -j "$jobs"
ctest --preset fuzz -j "$jobs"

step "all tests passed"
printf '== total: %d s\n' "$SECONDS"
