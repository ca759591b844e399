#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Renders the tray menu, the concern dialog (form, "I'm in danger now", sent) and the policy
# view to docs/screenshots/ with Qt's offscreen platform (QWidget::grab, no X server needed),
# against a real IpcServer with test data.   Usage: tests/e2e/tray_screenshots.sh [out-dir]
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:-docs/screenshots}
cmake --preset ci >/dev/null
cmake --build --preset ci -j2 --target ward_tray_screenshots
QT_QPA_PLATFORM=offscreen ./build/ci/tests/e2e/ward_tray_screenshots "$out"
