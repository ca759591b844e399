// SPDX-License-Identifier: Apache-2.0
// The USB policy benchmark's OS part: writing and verifying a plan (Windows), or nothing.
#pragma once

#include <functional>
#include <string>

#include "ward/platform/usb_install_policy.h"

namespace ward::platform {

// Times `step` `runs` times and prints "<what>: median <ms> ms (min, max)".
void TimeIt(const std::string& what, int runs, const std::function<void()>& step);

// Applies, re-applies and verifies `plan` with the OS back-end (timed), then restores.
// Returns non-zero on failure.
int BenchBackend(const UsbRegistryPlan& plan, int runs);

}  // namespace ward::platform
