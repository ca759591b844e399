// SPDX-License-Identifier: Apache-2.0
// Windows only (compiled into ward::common on Windows builds).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "ward/common/error.h"

namespace ward {

// Translates a Win32 error code (GetLastError()) at the OS seam: "opening C:\x: The system cannot
// find the file specified.", code chosen from the error (ERROR_FILE_NOT_FOUND -> kNotFound, ...).
Error WindowsError(std::string_view context, std::uint32_t code);

// UTF-8 <-> UTF-16 at the Win32 seam (invalid input gives an empty string).
std::string Utf8(std::wstring_view utf16);
std::wstring Utf16(std::string_view utf8);

// A path as UTF-8, for messages (path::string() uses the ANSI code page on Windows).
std::string PathUtf8(const std::filesystem::path& path);

}  // namespace ward
