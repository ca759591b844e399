// SPDX-License-Identifier: Apache-2.0
// Windows tests only: registry keys read back as text, to compare with golden files and to
// check that a Restore() leaves everything as it was.
#pragma once

#include <windows.h>

#include <algorithm>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "registry_values_windows.h"
#include "ward/common/error_windows.h"
#include "ward/platform/registry_policy.h"

namespace ward::platform {

// The values of one key in .reg lines, sorted by name; nullopt when the key does not exist.
inline std::optional<std::string> ValueLines(HKEY root, const std::wstring& path) {
  HKEY key = nullptr;
  if (RegOpenKeyExW(root, path.c_str(), 0, KEY_READ, &key) != ERROR_SUCCESS) {
    return std::nullopt;
  }
  std::vector<std::string> lines;
  for (const internal::NamedValue& value : internal::ListValues(key)) {
    const std::string value_name = Utf8(value.name);
    if (value.type == REG_DWORD) {
      DWORD dword = 0;
      std::memcpy(&dword, value.data.data(), sizeof(dword));
      lines.push_back(FormatRegistryValueLine(value_name, RegistryType::kDword, dword, ""));
    } else if (value.type == REG_SZ) {
      std::wstring text(reinterpret_cast<const wchar_t*>(value.data.data()),
                        value.data.size() / sizeof(wchar_t));
      while (!text.empty() && text.back() == L'\0') {
        text.pop_back();
      }
      lines.push_back(FormatRegistryValueLine(value_name, RegistryType::kSz, 0, Utf8(text)));
    } else {
      lines.push_back("\"" + value_name + "\"=type " + std::to_string(value.type));
    }
  }
  RegCloseKey(key);
  std::ranges::sort(lines);
  std::string out;
  for (const std::string& line : lines) {
    out += line + "\n";
  }
  return out;
}

// Every key and value below `path`, recursively, as text.
inline void Dump(HKEY root, const std::wstring& path, std::string& out) {
  const auto lines = ValueLines(root, path);
  if (!lines.has_value()) {
    return;
  }
  out += "[" + Utf8(path) + "]\n" + *lines;
  HKEY key = nullptr;
  if (RegOpenKeyExW(root, path.c_str(), 0, KEY_READ, &key) != ERROR_SUCCESS) {
    return;
  }
  std::vector<std::wstring> children;
  for (DWORD i = 0;; ++i) {
    wchar_t name[256];
    DWORD size = 256;
    if (RegEnumKeyExW(key, i, name, &size, nullptr, nullptr, nullptr, nullptr) != ERROR_SUCCESS) {
      break;
    }
    children.emplace_back(name, size);
  }
  RegCloseKey(key);
  std::ranges::sort(children);
  for (const std::wstring& child : children) {
    Dump(root, path + L"\\" + child, out);
  }
}

}  // namespace ward::platform
