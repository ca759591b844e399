// SPDX-License-Identifier: Apache-2.0
#include <windows.h>

#include "internal/os.h"
#include "ward/common/error_windows.h"

namespace ward::agent::store::internal {

std::tm UtcTime(std::time_t t) {
  std::tm tm{};
  gmtime_s(&tm, &t);
  return tm;
}

std::string SqlitePath(const std::filesystem::path& path) { return PathUtf8(path); }

bool IsDiskFull(int os_code) {
  return os_code == ERROR_DISK_FULL || os_code == ERROR_HANDLE_DISK_FULL;
}

void KeepPrivate(const std::filesystem::path& /*file*/) {}

}  // namespace ward::agent::store::internal
