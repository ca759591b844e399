// SPDX-License-Identifier: Apache-2.0
#include "ward/common/sid_windows.h"

#include <windows.h>

#include <sddl.h>

#include "ward/common/error_windows.h"

namespace ward {

std::string SidString(void* sid) {
  wchar_t* text = nullptr;
  if (!ConvertSidToStringSidW(sid, &text)) {
    return {};
  }
  std::string out = Utf8(text);
  LocalFree(text);
  return out;
}

std::optional<std::string> AccountName(void* sid) {
  wchar_t name[256];
  wchar_t domain[256];
  DWORD name_size = 256;
  DWORD domain_size = 256;
  SID_NAME_USE use;
  if (!LookupAccountSidW(nullptr, sid, name, &name_size, domain, &domain_size, &use)) {
    return std::nullopt;
  }
  const std::wstring account(name, name_size);
  return Utf8(domain_size > 0 ? std::wstring(domain, domain_size) + L"\\" + account : account);
}

}  // namespace ward
