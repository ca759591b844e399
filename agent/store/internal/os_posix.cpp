// SPDX-License-Identifier: Apache-2.0
#include <cerrno>
#include <system_error>

#include "internal/os.h"

namespace ward::agent::store::internal {

std::tm UtcTime(std::time_t t) {
  std::tm tm{};
  gmtime_r(&t, &tm);
  return tm;
}

std::string SqlitePath(const std::filesystem::path& path) { return path.string(); }

bool IsDiskFull(int os_code) { return os_code == ENOSPC || os_code == EDQUOT; }

void KeepPrivate(const std::filesystem::path& file) {
  std::error_code ec;
  std::filesystem::permissions(
      file, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write, ec);
}

}  // namespace ward::agent::store::internal
