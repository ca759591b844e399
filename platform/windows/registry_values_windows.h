// SPDX-License-Identifier: Apache-2.0
// Windows only, private to ward::platform (and its Windows tests): an owned registry key, one
// value's raw form read and compared, and the values of an open key. Shared by the settings
// lock-down, AppLocker and the registry watch.
#pragma once

#include <windows.h>

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "ward/common/error_windows.h"
#include "ward/common/result.h"
#include "ward/platform/registry_policy.h"

namespace ward::platform::internal {

// Owns one open registry key (RegCloseKey). Move-only.
class UniqueKey {
 public:
  UniqueKey() = default;
  explicit UniqueKey(HKEY key) : key_(key) {}
  UniqueKey(UniqueKey&& other) noexcept : key_(std::exchange(other.key_, nullptr)) {}
  UniqueKey& operator=(UniqueKey&& other) noexcept {
    Reset();
    key_ = std::exchange(other.key_, nullptr);
    return *this;
  }
  ~UniqueKey() { Reset(); }
  HKEY get() const { return key_; }
  HKEY* out() {
    Reset();
    return &key_;
  }
  void Reset() {
    if (key_ != nullptr) {
      RegCloseKey(key_);
      key_ = nullptr;
    }
  }

 private:
  HKEY key_ = nullptr;
};

struct RawValue {
  DWORD type = REG_NONE;
  std::vector<BYTE> data;
};

inline Error RegError(std::string_view context, LSTATUS status) {
  return WindowsError(context, static_cast<std::uint32_t>(status));
}

// The value `name` of `root`\`path`; nullopt when it (or its key) does not exist. `shown` names
// the key in errors ("HKEY_LOCAL_MACHINE\\SOFTWARE\\...").
inline Result<std::optional<RawValue>> ReadRawValue(HKEY root, const std::wstring& path,
                                                    const std::wstring& name,
                                                    const std::string& shown) {
  UniqueKey k;
  LSTATUS s = RegOpenKeyExW(root, path.c_str(), 0, KEY_QUERY_VALUE, k.out());
  if (s == ERROR_FILE_NOT_FOUND) {
    return std::nullopt;
  }
  if (s != ERROR_SUCCESS) {
    return std::unexpected(RegError("opening " + shown, s));
  }
  RawValue out;
  DWORD size = 0;
  s = RegQueryValueExW(k.get(), name.c_str(), nullptr, &out.type, nullptr, &size);
  if (s == ERROR_SUCCESS) {
    out.data.resize(size);
    s = RegQueryValueExW(k.get(), name.c_str(), nullptr, &out.type, out.data.data(), &size);
    out.data.resize(size);
  }
  if (s == ERROR_FILE_NOT_FOUND) {
    return std::nullopt;
  }
  if (s != ERROR_SUCCESS) {
    return std::unexpected(RegError("reading " + shown + "\\" + Utf8(name), s));
  }
  return out;
}

// A policy value as the registry stores it (REG_SZ with its terminating NUL).
inline RawValue EncodeValue(const RegistryPolicyValue& v) {
  RawValue out;
  if (v.type == RegistryType::kDword) {
    out.type = REG_DWORD;
    const auto* p = reinterpret_cast<const BYTE*>(&v.dword);
    out.data.assign(p, p + sizeof(DWORD));
    return out;
  }
  out.type = REG_SZ;
  const std::wstring text = Utf16(v.text);
  const auto* p = reinterpret_cast<const BYTE*>(text.c_str());
  out.data.assign(p, p + (text.size() + 1) * sizeof(wchar_t));
  return out;
}

inline bool ValueHolds(const std::optional<RawValue>& now, const RawValue& wanted) {
  if (!now.has_value() || now->type != wanted.type) {
    return false;
  }
  if (wanted.type == REG_SZ) {
    // Compare the text: a writer may or may not have stored the terminating NUL.
    const auto text = [](const std::vector<BYTE>& data) {
      std::wstring s(reinterpret_cast<const wchar_t*>(data.data()), data.size() / sizeof(wchar_t));
      while (!s.empty() && s.back() == L'\0') {
        s.pop_back();
      }
      return s;
    };
    return text(now->data) == text(wanted.data);
  }
  return now->data == wanted.data;
}

struct NamedValue {
  std::wstring name;
  DWORD type = REG_NONE;
  std::vector<BYTE> data;
};

// Every value of `key` in the registry's order (AppLocker rules with many exceptions are
// several KiB: buffers are sized from RegQueryInfoKeyW).
inline std::vector<NamedValue> ListValues(HKEY key) {
  std::vector<NamedValue> out;
  DWORD max_name = 0;
  DWORD max_data = 0;
  if (RegQueryInfoKeyW(key, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr,
                       &max_name, &max_data, nullptr, nullptr) != ERROR_SUCCESS) {
    return out;
  }
  std::vector<wchar_t> name(max_name + 1);
  std::vector<BYTE> data(max_data + 1);
  for (DWORD i = 0;; ++i) {
    DWORD name_size = static_cast<DWORD>(name.size());
    DWORD data_size = static_cast<DWORD>(data.size());
    DWORD type = 0;
    if (RegEnumValueW(key, i, name.data(), &name_size, nullptr, &type, data.data(), &data_size) !=
        ERROR_SUCCESS) {
      return out;
    }
    out.push_back({std::wstring(name.data(), name_size), type,
                   std::vector<BYTE>(data.begin(), data.begin() + data_size)});
  }
}

}  // namespace ward::platform::internal
