// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>

#include "ward/common/result.h"

namespace ward::ctl {

// Reads a whole regular file of at most `max_bytes` (kInvalidArgument if larger, so a wrong
// argument such as /dev/zero cannot exhaust memory).
Result<std::string> ReadWholeFile(const std::filesystem::path& path, std::size_t max_bytes);

// Writes `content` to a new file created with `mode` (less the umask); kAlreadyExists if `path`
// exists (wardctl never overwrites policies, bundles or evidence). A partly written file is
// removed.
Status WriteNewFile(const std::filesystem::path& path, std::string_view content,
                    unsigned mode = 0666);

}  // namespace ward::ctl
