// SPDX-License-Identifier: Apache-2.0
// Windows only (compiled into ward::common on Windows builds): small files that must stay private,
// read and written through Win32 with their access lists. Shared by the policy key files and the
// store key; HANDLEs appear as void* so that no Windows header is needed here.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "ward/common/result.h"

namespace ward {

struct WindowsHandleCloser {
  void operator()(void* handle) const;
};
// An open Win32 file handle (never INVALID_HANDLE_VALUE: that is stored as nullptr).
using UniqueWindowsHandle = std::unique_ptr<void, WindowsHandleCloser>;

struct LocalFreer {
  void operator()(void* p) const;
};
// Memory the system allocated with LocalAlloc (security descriptors, SID strings, DPAPI output).
template <typename T>
using LocalPtr = std::unique_ptr<T, LocalFreer>;

// Opens `path` for reading its data and its security; directories open too. A reparse point
// (symbolic link, junction) is opened itself, not followed, when `follow_links` is false.
// Errors: as WindowsError (kNotFound when it does not exist).
Result<UniqueWindowsHandle> OpenForReading(const std::filesystem::path& path,
                                           bool follow_links = true);

// The whole of an open regular file (a key file) of at most `max_bytes`. `shown` names it in
// errors. Errors: kInvalidArgument (a directory, a device, or too large), I/O as WindowsError.
Result<std::string> ReadSmallFile(void* file, const std::string& shown, std::size_t max_bytes);

// Creates `path`, which must not exist (kAlreadyExists), with the access list `sddl` from the
// start, writes `content` and flushes it to disk. On any failure the half-written file is removed.
Status WriteNewFile(const std::filesystem::path& path, std::string_view content,
                    std::wstring_view sddl);

// Who, other than this process's user, SYSTEM, the Administrators and OWNER RIGHTS, an allow
// entry of the open object's access list grants any of `access` (a Win32 access mask); empty when
// nobody. An object without an access list grants everything to "Everyone".
Result<std::string> OthersWithAccess(void* object, const std::string& shown, std::uint32_t access);

// The open object's owner when it is not this process's user, SYSTEM or the Administrators (an
// owner may always change the access list); empty otherwise.
Result<std::string> UntrustedOwner(void* object, const std::string& shown);

}  // namespace ward
