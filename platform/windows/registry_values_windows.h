// SPDX-License-Identifier: Apache-2.0
// Windows only, private to ward::platform (and its Windows tests): the values of an open key.
#pragma once

#include <windows.h>

#include <string>
#include <vector>

namespace ward::platform::internal {

struct NamedValue {
  std::wstring name;
  DWORD type = REG_NONE;
  std::vector<BYTE> data;
};

// Every value of `key` in the registry's order (values over 4 KiB are not Ward's and are cut).
inline std::vector<NamedValue> ListValues(HKEY key) {
  std::vector<NamedValue> out;
  for (DWORD i = 0;; ++i) {
    wchar_t name[16384];
    DWORD name_size = 16384;
    BYTE data[4096];
    DWORD data_size = sizeof(data);
    DWORD type = 0;
    if (RegEnumValueW(key, i, name, &name_size, nullptr, &type, data, &data_size) !=
        ERROR_SUCCESS) {
      return out;
    }
    out.push_back({std::wstring(name, name_size), type, std::vector<BYTE>(data, data + data_size)});
  }
}

}  // namespace ward::platform::internal
