// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

// The catalogue of settings a policy may lock. A policy names entries by `name`; the value type
// is fixed here, and so is how each OS applies it (data only: agent/core and the platform
// back-ends read it). Locking is the `locked` flag of a SettingLock, not a separate entry: a
// "desktop.wallpaper" lock with locked=true sets the wallpaper and stops the learner changing it;
// locked=false only sets the default.
//
// The catalogue is a constant table: every function here is pure and thread-safe, and the
// returned references live for the whole program.
namespace ward::policy {

enum class SettingType : std::uint8_t { kBool, kInt, kString };

// Extra rules for string values.
enum class StringFormat : std::uint8_t {
  kAny,
  kAbsolutePath,  // an absolute file path
};

// How a Linux back-end writes the value into dconf.
enum class DconfEncoding : std::uint8_t {
  kDirect,      // the value as is, in the key's GVariant type
  kInvertBool,  // the key means the opposite ("disable-..." keys)
  kFileUri,     // a path written as a "file://" URI string
};

// One dconf key (system database + lock file entry).
struct DconfKey {
  std::string_view path;           // "/org/gnome/desktop/background/picture-uri"
  std::string_view gvariant_type;  // "s", "b", "u", "i"
  DconfEncoding encoding = DconfEncoding::kDirect;
};

// How a Windows back-end writes the value as a registry policy value.
enum class RegistryEncoding : std::uint8_t {
  kNone,           // no registry policy value; see `windows_note`
  kDword01,        // REG_DWORD 1 for true, 0 for false
  kDwordInvert,    // REG_DWORD 1 for false, 0 for true ("Prohibit..." / "Disable..." values)
  kSz01,           // REG_SZ "1" for true, "0" for false
  kSzDecimal,      // REG_SZ decimal integer
  kSzString,       // REG_SZ the string itself
  kDwordDisable2,  // REG_DWORD 0 for true, 2 for false (Windows Installer DisableMSI)
};

struct RegistryValue {
  std::string_view key = {};    // "HKLM\\Software\\Policies\\Microsoft\\Windows\\Installer"
  std::string_view value = {};  // "DisableMSI"
  RegistryEncoding encoding = RegistryEncoding::kNone;
};

struct SettingInfo {
  std::string_view name;  // "screensaver.idle_delay_seconds"
  SettingType type = SettingType::kBool;
  // For staff: what the setting means and what its value does.
  std::string_view description = {};
  // For the learner, when the setting is locked ("You can't change the wallpaper."); for bool
  // settings, when it is locked to false. Empty: nothing worth saying.
  std::string_view locked_sentence = {};
  // For bool settings locked to true. Empty: nothing worth saying.
  std::string_view locked_true_sentence = {};
  StringFormat string_format = StringFormat::kAny;
  std::int64_t min_int = 0;  // inclusive bounds for kInt
  std::int64_t max_int = 0;

  // Linux: dconf keys written (and locked when the policy locks the setting), and polkit
  // actions a locked bool setting denies to learners when its value is false.
  std::span<const DconfKey> dconf = {};
  std::span<const std::string_view> polkit_actions = {};
  // Windows: the registry policy value, or a note on why there is none.
  RegistryValue windows = {};
  std::string_view windows_note = {};
};

// Every entry, sorted by name.
std::span<const SettingInfo> SettingsCatalog();

// The entry called `name`, or nullptr.
const SettingInfo* FindSetting(std::string_view name);

// "a true/false value", "a whole number", "text".
std::string_view SettingTypeName(SettingType type);

}  // namespace ward::policy
