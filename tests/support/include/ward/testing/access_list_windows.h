// SPDX-License-Identifier: Apache-2.0
// Windows tests only: set and show a file's access list.
#pragma once

#include <windows.h>

#include <aclapi.h>
#include <sddl.h>

#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include "ward/common/error_windows.h"
#include "ward/common/file_windows.h"

namespace ward::testing {

// Replaces the access list of `path` with the protected (not inherited) one in `sddl`.
inline void SetAccessList(const std::filesystem::path& path, const std::wstring& sddl) {
  PSECURITY_DESCRIPTOR descriptor = nullptr;
  ASSERT_TRUE(ConvertStringSecurityDescriptorToSecurityDescriptorW(sddl.c_str(), SDDL_REVISION_1,
                                                                   &descriptor, nullptr));
  LocalPtr<void> owned(descriptor);
  BOOL present = FALSE;
  BOOL defaulted = FALSE;
  PACL dacl = nullptr;
  ASSERT_TRUE(GetSecurityDescriptorDacl(descriptor, &present, &dacl, &defaulted));
  std::wstring native = path.native();
  ASSERT_EQ(SetNamedSecurityInfoW(native.data(), SE_FILE_OBJECT,
                                  DACL_SECURITY_INFORMATION | PROTECTED_DACL_SECURITY_INFORMATION,
                                  nullptr, nullptr, dacl, nullptr),
            static_cast<DWORD>(ERROR_SUCCESS));
}

// `path`'s access list in SDDL, as the system (or Wine) reports it: for messages and logs.
inline std::string AccessList(const std::filesystem::path& path) {
  PSECURITY_DESCRIPTOR descriptor = nullptr;
  if (GetNamedSecurityInfoW(path.c_str(), SE_FILE_OBJECT, DACL_SECURITY_INFORMATION, nullptr,
                            nullptr, nullptr, nullptr, &descriptor) != ERROR_SUCCESS) {
    return "(unreadable)";
  }
  LocalPtr<void> owned(descriptor);
  wchar_t* text = nullptr;
  if (!ConvertSecurityDescriptorToStringSecurityDescriptorW(
          descriptor, SDDL_REVISION_1, DACL_SECURITY_INFORMATION, &text, nullptr)) {
    return "(unconvertible)";
  }
  LocalPtr<wchar_t> owned_text(text);
  return Utf8(text);
}

}  // namespace ward::testing
