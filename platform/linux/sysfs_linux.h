// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "ward/common/result.h"

namespace ward::platform::internal {

// Reads a whole small sysfs attribute (at most `max_bytes`). kNotFound when absent.
Result<std::vector<std::uint8_t>> ReadAttributeBytes(const std::filesystem::path& path,
                                                     std::size_t max_bytes = 64 * 1024);
// The attribute as text without its trailing newline.
Result<std::string> ReadAttribute(const std::filesystem::path& path);
// The names in a directory, without throwing. kNotFound/kUnavailable when unreadable.
Result<std::vector<std::string>> ListNames(const std::filesystem::path& dir);

// Writes all of `data` to `fd`, retrying on EINTR; `path` names it in errors.
Status WriteAll(int fd, std::string_view data, const std::filesystem::path& path);

// Writes `value` to an existing attribute (never creates one), retrying on EINTR.
Status WriteAttribute(const std::filesystem::path& path, std::string_view value);

}  // namespace ward::platform::internal
