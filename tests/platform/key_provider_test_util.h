// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <filesystem>
#include <fstream>
#include <string>
#include <system_error>

#include "ward/testing/temp_dir.h"

namespace ward::platform::testing {

using ScratchDir = ::ward::testing::TempDir;

inline void WriteFile(const std::filesystem::path& path, const std::string& bytes) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f << bytes;
}

}  // namespace ward::platform::testing
