// SPDX-License-Identifier: Apache-2.0
// What the store does differently per OS (os_posix.cpp, os_windows.cpp; CMake picks one).
#pragma once

#include <ctime>
#include <filesystem>
#include <string>

namespace ward::agent::store::internal {

// `t` as UTC calendar time.
std::tm UtcTime(std::time_t t);

// `path` as SQLite opens it: UTF-8 (sqlite3_open_v2 takes UTF-8 on every OS).
std::string SqlitePath(const std::filesystem::path& path);

// True when `os_code` (sqlite3_system_errno: errno on POSIX, GetLastError() on Windows) means the
// disk or the user's quota is full.
bool IsDiskFull(int os_code);

// Keeps a database file the store created to the agent's account. POSIX: mode 0600. Windows:
// nothing to do, the file inherits its directory's protected access list
// (platform::CreatePrivateDirectory).
void KeepPrivate(const std::filesystem::path& file);

}  // namespace ward::agent::store::internal
