#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Renders the concern dialog (form, "I'm in danger now", sent), the policy view and the
# fallback window to docs/screenshots/ with Qt's offscreen platform (QWidget::grab, no X server),
# against a real IpcServer with test data; then the tray menu on a real tray icon under Xvfb +
# trayer (tray_xvfb.sh).   Usage: tests/e2e/tray_screenshots.sh [out-dir]
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:-docs/screenshots}
cmake --preset ci >/dev/null
cmake --build --preset ci -j2 --target ward_tray_screenshots
QT_QPA_PLATFORM=offscreen ./build/ci/tests/e2e/ward_tray_screenshots "$out"
WARD_TRAY_SCREENSHOTS_BIN=./build/ci/tests/e2e/ward_tray_screenshots \
  bash tests/e2e/tray_xvfb.sh "$out/tray-menu.png"
