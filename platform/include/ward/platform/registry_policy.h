// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ward/platform/settings_lockdown.h"
#include "ward/policy/settings_plan.h"

// A settings plan as the registry policy values Group Policy writes for the same settings (key,
// value name, REG_DWORD or REG_SZ, data), from the catalogue's Windows column. Portable, pure
// code: the Windows back-end writes the result; Linux tests compare it with golden files.
namespace ward::platform {

enum class RegistryRoot : std::uint8_t {
  kMachine,   // HKEY_LOCAL_MACHINE
  kEachUser,  // every user's hive (HKEY_USERS\<SID>) and the default user's
};

enum class RegistryType : std::uint8_t { kDword, kSz };

struct RegistryPolicyValue {
  std::string setting;  // the catalogue name it comes from
  RegistryRoot root = RegistryRoot::kMachine;
  std::string key;   // below the root: "Software\\Policies\\Microsoft\\Windows\\Installer"
  std::string name;  // "DisableMSI"
  RegistryType type = RegistryType::kDword;
  std::uint32_t dword = 0;  // kDword
  std::string text;         // kSz
  friend bool operator==(const RegistryPolicyValue&, const RegistryPolicyValue&) = default;
};

struct RegistryPolicy {
  std::vector<RegistryPolicyValue> values;  // sorted by root, key, name
  std::vector<SettingNotEnforced> not_enforced;
};

RegistryPolicy RenderRegistryPolicy(const policy::SettingsPlan& plan);

// The values in .reg file syntax (HKEY_CURRENT_USER standing for every user hive), then one
// "; not enforced on Windows: <setting>: <reason>" line each: the golden files' format.
std::string FormatRegistryPolicy(const RegistryPolicy& policy);

// One value line in .reg syntax: "\"Name\"=dword:00000001" or "\"Name\"=\"text\"".
std::string FormatRegistryValueLine(const std::string& name, RegistryType type, std::uint32_t dword,
                                    const std::string& text);

}  // namespace ward::platform
