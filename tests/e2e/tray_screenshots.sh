#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Makes docs/screenshots/. First every view with Qt's offscreen platform (QWidget::grab, no X
# server) against a real IpcServer with test data: the "I'm in danger now" help and the
# fallback window come from there. Then tray_concern_e2e.sh on a real X desktop (Xvfb + trayer,
# a real agent and collector) replaces the tray menu, the concern dialog, the sent dialog and
# the policy view with what a learner sees there.   Usage: tests/e2e/tray_screenshots.sh [out-dir]
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:-docs/screenshots}
cmake --preset ci >/dev/null
cmake --build --preset ci -j2 --target ward_tray_screenshots ward_tray_e2e_harness ward-tray \
  ward-agent ward-collector wardctl
QT_QPA_PLATFORM=offscreen ./build/ci/tests/e2e/ward_tray_screenshots "$out"
bash tests/e2e/tray_concern_e2e.sh "$out"
