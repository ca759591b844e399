// SPDX-License-Identifier: Apache-2.0
// Windows only (compiled into ward::common on Windows builds).
#pragma once

#include <optional>
#include <string>

namespace ward {

// A SID (a PSID, typed void* so that no header needs <windows.h>) in its string form,
// "S-1-5-21-...-1001"; empty when it cannot be written.
std::string SidString(void* sid);

// "DOMAIN\name" for a SID ("BUILTIN\Users", "LAPTOP-7\sam"), or just the name when the account
// has no domain; nullopt when the account database has no name for it.
std::optional<std::string> AccountName(void* sid);

}  // namespace ward
