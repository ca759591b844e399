#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The tray on a real (virtual) X desktop: Xvfb + trayer as the tray host. Checks that
# QSystemTrayIcon finds the tray, opens the menu on the icon and captures the screen's top-right
# corner to docs/screenshots/tray-menu.png (xwd + ImageMagick).
#   Usage: tests/e2e/tray_xvfb.sh [out.png]
#   WARD_TRAY_SCREENSHOTS_BIN=<path> uses that binary instead of building it (ctest does).
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:-docs/screenshots/tray-menu.png}
# shellcheck source=tests/e2e/x_session.sh
source tests/e2e/x_session.sh
bin=${WARD_TRAY_SCREENSHOTS_BIN:-}
if [[ -z "$bin" ]]; then
  cmake --preset ci >/dev/null
  cmake --build --preset ci -j2 --target ward_tray_screenshots
  bin=./build/ci/tests/e2e/ward_tray_screenshots
fi

work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

start_x_session "$work"

DISPLAY=$display QT_QPA_PLATFORM=xcb "$bin" --real-tray \
  >"$work/tray.out" 2>"$work/tray.err" &
tray_pid=$!
pids+=("$tray_pid")
for _ in $(seq 100); do grep -q READY "$work/tray.out" 2>/dev/null && break; sleep 0.1; done
if ! grep -q READY "$work/tray.out"; then
  echo "tray_xvfb: the tray did not come up" >&2
  cat "$work/tray.err" >&2
  exit 1
fi
xwd -root -silent -display "$display" | convert xwd:- -crop 260x160+540+0 +repage "$out"
wait "$tray_pid"
# The menu is open over the icon: the capture must not be a blank screen.
colours=$(convert "$out" -format %k info:)
if (( colours < 8 )); then
  echo "tray_xvfb: the capture is blank ($colours colours)" >&2
  exit 1
fi
echo "wrote $out"
