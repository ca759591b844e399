// SPDX-License-Identifier: Apache-2.0
// The session the lock tests run in, on Windows: the test's own logon session ("Local\").
#pragma once

#include <windows.h>

#include <string>

namespace ward::tray::testing {

inline std::string ProcessId() { return std::to_string(GetCurrentProcessId()); }

class SessionEnvironment {};

}  // namespace ward::tray::testing
