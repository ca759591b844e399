// SPDX-License-Identifier: Apache-2.0
// Linux answers each exec itself (fanotify, exec_control.h): there is no compiled application
// policy for the OS to enforce.
#include "ward/platform/app_lockdown.h"

namespace ward::platform {

Result<std::unique_ptr<AppLockdown>> CreateAppLockdown(const AppLockdownOptions&) {
  return UnsupportedError(
      "applications on Linux are enforced per exec by fanotify, not by a compiled OS policy");
}

}  // namespace ward::platform
