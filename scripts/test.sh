#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Runs every test: installs what is missing, builds with the `ci` preset (warnings are errors),
# runs every ctest label (the staff console's browser tests in their own timed stage, after
# `npm ci` and the type check), builds and tests the Debian packages (scripts/test-debs.sh),
# cross-builds for Windows and runs those tests under Wine, smoke-runs each libFuzzer target,
# and checks formatting.
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
cmake --preset windows >/dev/null
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
