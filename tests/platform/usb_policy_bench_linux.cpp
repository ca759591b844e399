// SPDX-License-Identifier: Apache-2.0
#include <cstdio>

#include "usb_policy_bench.h"

namespace ward::platform {

int BenchBackend(const UsbRegistryPlan& /*plan*/, int /*runs*/) {
  std::printf("write and verify: Windows only (run the .exe under Wine or on Windows)\n");
  return 0;
}

}  // namespace ward::platform
