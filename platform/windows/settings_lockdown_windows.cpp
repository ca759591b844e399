// SPDX-License-Identifier: Apache-2.0
// The settings plan as registry policy values (registry_policy.h), written with the Win32
// registry API into HKEY_LOCAL_MACHINE, every loaded user hive (HKEY_USERS\<SID>) and the default
// user's hive; drift watched with RegNotifyChangeKeyValue.
#include <windows.h>

#include <algorithm>
#include <filesystem>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "registry_values_windows.h"
#include "ward/common/error_windows.h"
#include "ward/common/unique_handle_windows.h"
#include "ward/platform/registry_policy.h"
#include "ward/platform/registry_watch.h"
#include "ward/platform/settings_lockdown.h"

namespace ward::platform {
namespace {

// Where the default user's hive is mounted while Ward writes to it.
constexpr wchar_t kDefaultUserMount[] = L"WardDefaultUser";
constexpr char kMachineId[] = "HKLM";

using internal::RawValue;
using internal::RegError;
using internal::UniqueKey;

// One hive Ward writes to: HKEY_LOCAL_MACHINE, or a user's below HKEY_USERS.
struct Hive {
  HKEY root = HKEY_LOCAL_MACHINE;
  std::wstring prefix;  // "S-1-5-21-...\\" below HKEY_USERS; empty for the machine
  std::string id;       // "HKLM", "HKU\\S-1-5-21-..." (restore records)
  std::string shown;    // "HKEY_USERS\\S-1-5-21-..." (drift reports)
};

Hive MachineHive() { return {HKEY_LOCAL_MACHINE, L"", kMachineId, "HKEY_LOCAL_MACHINE"}; }

Hive UserHive(const std::wstring& mount) {
  const std::string name = Utf8(mount);
  return {HKEY_USERS, mount + L"\\", "HKU\\" + name, "HKEY_USERS\\" + name};
}

// "HKLM" or "HKU\\<mount>" back into a hive.
Hive HiveFromId(const std::string& id) {
  return id == kMachineId ? MachineHive() : UserHive(Utf16(id.substr(4)));
}

// Every loaded user hive: HKEY_USERS\S-1-5-21-... (local and domain accounts; not the service
// accounts S-1-5-18/19/20, not .DEFAULT, which is LocalSystem's, not the *_Classes views).
Result<std::vector<Hive>> LoadedUserHives() {
  std::vector<Hive> out;
  for (DWORD i = 0;; ++i) {
    wchar_t name[256];
    DWORD size = 256;
    const LSTATUS s = RegEnumKeyExW(HKEY_USERS, i, name, &size, nullptr, nullptr, nullptr, nullptr);
    if (s == ERROR_NO_MORE_ITEMS) {
      break;
    }
    if (s != ERROR_SUCCESS) {
      return std::unexpected(RegError("listing HKEY_USERS", s));
    }
    const std::wstring sid(name, size);
    if (sid.starts_with(L"S-1-5-21-") && !sid.ends_with(L"_Classes")) {
      out.push_back(UserHive(sid));
    }
  }
  return out;
}

Status EnablePrivilege(const wchar_t* name) {
  HANDLE raw = nullptr;
  if (!OpenProcessToken(GetCurrentProcess(), TOKEN_ADJUST_PRIVILEGES | TOKEN_QUERY, &raw)) {
    return std::unexpected(WindowsError("opening the process token", GetLastError()));
  }
  UniqueHandle token(raw);
  TOKEN_PRIVILEGES tp{};
  tp.PrivilegeCount = 1;
  tp.Privileges[0].Attributes = SE_PRIVILEGE_ENABLED;
  if (!LookupPrivilegeValueW(nullptr, name, &tp.Privileges[0].Luid) ||
      !AdjustTokenPrivileges(token.get(), FALSE, &tp, 0, nullptr, nullptr) ||
      GetLastError() == ERROR_NOT_ALL_ASSIGNED) {
    return std::unexpected(WindowsError("enabling " + Utf8(name), GetLastError()));
  }
  return OkStatus();
}

// The default user's hive, mounted at HKEY_USERS\WardDefaultUser for as long as this lives.
class MountedDefaultHive {
 public:
  // nullopt with `note` set when there is no such hive or it cannot be mounted (not an error:
  // new accounts then get the per-user values at their first logon, from the HKEY_USERS watch).
  static std::optional<MountedDefaultHive> Mount(const std::filesystem::path& file,
                                                 std::string& note) {
    std::error_code ec;
    if (file.empty() || !std::filesystem::exists(file, ec)) {
      note = "no default user hive at " + PathUtf8(file) +
             ": new accounts get the per-user values when they first sign in";
      return std::nullopt;
    }
    UniqueKey existing;
    if (RegOpenKeyExW(HKEY_USERS, kDefaultUserMount, 0, KEY_READ, existing.out()) ==
        ERROR_SUCCESS) {
      return MountedDefaultHive(false);  // still mounted (an earlier run did not unmount it)
    }
    for (const wchar_t* privilege : {SE_RESTORE_NAME, SE_BACKUP_NAME}) {
      if (auto ok = EnablePrivilege(privilege); !ok.has_value()) {
        note = "default user hive not written: " + ok.error().ToString();
        return std::nullopt;
      }
    }
    const LSTATUS s = RegLoadKeyW(HKEY_USERS, kDefaultUserMount, file.c_str());
    if (s != ERROR_SUCCESS) {
      note =
          "default user hive not written: " + RegError("loading " + PathUtf8(file), s).ToString();
      return std::nullopt;
    }
    note = "default user hive " + PathUtf8(file) + " written";
    return MountedDefaultHive(true);
  }
  MountedDefaultHive(MountedDefaultHive&& other) noexcept
      : unmount_(std::exchange(other.unmount_, false)) {}
  MountedDefaultHive& operator=(MountedDefaultHive&&) = delete;
  ~MountedDefaultHive() {
    if (unmount_) {
      RegUnLoadKeyW(HKEY_USERS, kDefaultUserMount);
    }
  }

 private:
  explicit MountedDefaultHive(bool unmount) : unmount_(unmount) {}
  bool unmount_;
};

// The value, nullopt when it (or its key) does not exist.
Result<std::optional<RawValue>> ReadValue(const Hive& hive, const std::string& key,
                                          const std::string& name) {
  return internal::ReadRawValue(hive.root, hive.prefix + Utf16(key), Utf16(name),
                                hive.shown + "\\" + key);
}

// The key below which Group Policy keeps a value's policies ("Software\\Policies",
// "Software\\Microsoft\\Windows\\CurrentVersion\\Policies"): watched as a whole, so a deleted
// key is seen as well as a changed value.
std::string WatchRoot(const std::string& key) {
  const std::size_t at = key.find("\\Policies");
  return at == std::string::npos ? key : key.substr(0, at + 9);
}

class RegistrySettingsLockdown final : public SettingsLockdown {
 public:
  RegistrySettingsLockdown(SettingsLockdownOptions options, std::unique_ptr<RegistryWatch> watch)
      : options_(std::move(options)), watch_(std::move(watch)) {}

  Result<SettingsApplyReport> Apply(const policy::SettingsPlan& plan) override {
    const RegistryPolicy rendered = RenderRegistryPolicy(plan);
    SettingsApplyReport report{.not_enforced = rendered.not_enforced, .notes = {}};
    WARD_ASSIGN_OR_RETURN(std::vector<Hive> users, LoadedUserHives());
    std::string note;
    const auto mounted = MountedDefaultHive::Mount(options_.default_user_hive, note);
    report.notes.push_back(std::to_string(users.size()) + " signed-in user hive(s) written");
    report.notes.push_back(note);
    if (mounted.has_value()) {
      users.push_back(UserHive(kDefaultUserMount));
    }
    // HKEY_USERS itself (a user signing in loads a hive there), then each policy root written.
    std::vector<WatchedKey> watch = {{RegistryHive::kUsers, "", false}};
    std::set<std::pair<std::string, std::string>> roots;  // hive id, key
    for (const RegistryPolicyValue& v : rendered.values) {
      const std::vector<Hive> hives =
          v.root == RegistryRoot::kMachine ? std::vector<Hive>{MachineHive()} : users;
      for (const Hive& hive : hives) {
        WARD_RETURN_IF_ERROR(Remember(hive, v.key, v.name));
        WARD_RETURN_IF_ERROR(Write(hive, v));
        if (hive.prefix != std::wstring(kDefaultUserMount) + L"\\") {
          roots.emplace(hive.id, WatchRoot(v.key));
        }
      }
    }
    for (const auto& [hive_id, key] : roots) {
      const Hive hive = HiveFromId(hive_id);
      watch.push_back(hive.root == HKEY_LOCAL_MACHINE
                          ? WatchedKey{RegistryHive::kMachine, key, true}
                          : WatchedKey{RegistryHive::kUsers, Utf8(hive.prefix) + key, true});
    }
    WARD_RETURN_IF_ERROR(watch_->Watch(watch));
    return report;
  }

  Result<std::vector<SettingDrift>> Drifted(const policy::SettingsPlan& plan) override {
    const RegistryPolicy rendered = RenderRegistryPolicy(plan);
    WARD_ASSIGN_OR_RETURN(std::vector<Hive> users, LoadedUserHives());
    std::string note;
    const auto mounted = MountedDefaultHive::Mount(options_.default_user_hive, note);
    if (mounted.has_value()) {
      users.push_back(UserHive(kDefaultUserMount));
    }
    std::vector<SettingDrift> out;
    for (const RegistryPolicyValue& v : rendered.values) {
      const std::vector<Hive> hives =
          v.root == RegistryRoot::kMachine ? std::vector<Hive>{MachineHive()} : users;
      for (const Hive& hive : hives) {
        WARD_ASSIGN_OR_RETURN(const auto now, ReadValue(hive, v.key, v.name));
        if (!internal::ValueHolds(now, internal::EncodeValue(v))) {
          out.push_back({v.setting, hive.shown + "\\" + v.key + "\\" + v.name});
        }
      }
    }
    return out;
  }

  // Wakes on a change of the policy roots written, or a user signing in (a hive loaded).
  Result<bool> WaitForChange(std::chrono::milliseconds max_wait) override {
    return watch_->WaitForChange(max_wait);
  }

  void Interrupt() override { watch_->Interrupt(); }

  Status Restore() override {
    UniqueKey base;
    LSTATUS s = RegOpenKeyExW(HKEY_LOCAL_MACHINE, Utf16(options_.restore_key).c_str(), 0, KEY_READ,
                              base.out());
    if (s == ERROR_FILE_NOT_FOUND) {
      return OkStatus();  // Ward never wrote anything here
    }
    if (s != ERROR_SUCCESS) {
      return std::unexpected(RegError("opening HKEY_LOCAL_MACHINE\\" + options_.restore_key, s));
    }
    base.Reset();
    std::string note;
    const auto mounted = MountedDefaultHive::Mount(options_.default_user_hive, note);
    std::vector<std::string> left;
    for (const auto& [id, value] : Records("Values")) {
      const auto [hive, key, name] = SplitId(id);
      s = RegSetKeyValueW(hive.root, (hive.prefix + Utf16(key)).c_str(), Utf16(name).c_str(),
                          value.type, value.data.data(), static_cast<DWORD>(value.data.size()));
      Settle(s == ERROR_SUCCESS, "Values", id, left);
    }
    for (const auto& [id, value] : Records("Absent")) {
      const auto [hive, key, name] = SplitId(id);
      s = RegDeleteKeyValueW(hive.root, (hive.prefix + Utf16(key)).c_str(), Utf16(name).c_str());
      Settle(s == ERROR_SUCCESS || (s == ERROR_FILE_NOT_FOUND && HiveLoaded(hive)), "Absent", id,
             left);
    }
    // Keys Ward created, deepest first; one that holds anything now is someone else's too.
    auto created = Records("CreatedKeys");
    std::ranges::sort(created, std::greater<>(),
                      [](const auto& record) { return record.first.size(); });
    for (const auto& [id, value] : created) {
      const std::size_t bar = id.find('|');
      const Hive hive = HiveFromId(id.substr(0, bar));
      const std::wstring path = hive.prefix + Utf16(id.substr(bar + 1));
      if (!HiveLoaded(hive)) {
        left.push_back(id);
        continue;
      }
      UniqueKey k;
      DWORD subkeys = 0;
      DWORD values = 0;
      if (RegOpenKeyExW(hive.root, path.c_str(), 0, KEY_READ, k.out()) == ERROR_SUCCESS &&
          RegQueryInfoKeyW(k.get(), nullptr, nullptr, nullptr, &subkeys, nullptr, nullptr, &values,
                           nullptr, nullptr, nullptr, nullptr) == ERROR_SUCCESS &&
          subkeys == 0 && values == 0) {
        k.Reset();
        RegDeleteKeyW(hive.root, path.c_str());
      }
      Settle(true, "CreatedKeys", id, left);
    }
    if (!left.empty()) {
      std::string list;
      for (const std::string& id : left) {
        list += (list.empty() ? "" : ", ") + id;
      }
      return UnavailableError("not restored yet (hive not loaded?): " + list);
    }
    s = RegDeleteTreeW(HKEY_LOCAL_MACHINE, Utf16(options_.restore_key).c_str());
    if (s != ERROR_SUCCESS && s != ERROR_FILE_NOT_FOUND) {
      return std::unexpected(RegError("deleting HKEY_LOCAL_MACHINE\\" + options_.restore_key, s));
    }
    return OkStatus();
  }

 private:
  struct Place {
    Hive hive;
    std::string key;
    std::string name;
  };

  // Restore records are values named "<hive id>|<key>|<value name>" (or "<hive id>|<key>" for
  // created keys) below HKLM\<restore_key>\<kind>.
  static Place SplitId(const std::string& id) {
    const std::size_t a = id.find('|');
    const std::size_t b = id.rfind('|');
    return {HiveFromId(id.substr(0, a)), id.substr(a + 1, b - a - 1), id.substr(b + 1)};
  }

  static bool HiveLoaded(const Hive& hive) {
    if (hive.root == HKEY_LOCAL_MACHINE) {
      return true;
    }
    UniqueKey k;
    return RegOpenKeyExW(HKEY_USERS, hive.prefix.substr(0, hive.prefix.size() - 1).c_str(), 0,
                         KEY_READ, k.out()) == ERROR_SUCCESS;
  }

  std::wstring RecordKey(const char* kind) const {
    return Utf16(options_.restore_key) + L"\\" + Utf16(kind);
  }

  bool HasRecord(const char* kind, const std::string& id) const {
    UniqueKey k;
    return RegOpenKeyExW(HKEY_LOCAL_MACHINE, RecordKey(kind).c_str(), 0, KEY_QUERY_VALUE,
                         k.out()) == ERROR_SUCCESS &&
           RegQueryValueExW(k.get(), Utf16(id).c_str(), nullptr, nullptr, nullptr, nullptr) ==
               ERROR_SUCCESS;
  }

  Status AddRecord(const char* kind, const std::string& id, const RawValue& value) const {
    const LSTATUS s =
        RegSetKeyValueW(HKEY_LOCAL_MACHINE, RecordKey(kind).c_str(), Utf16(id).c_str(), value.type,
                        value.data.data(), static_cast<DWORD>(value.data.size()));
    if (s != ERROR_SUCCESS) {
      return std::unexpected(RegError("remembering " + id + " for uninstall", s));
    }
    return OkStatus();
  }

  std::vector<std::pair<std::string, RawValue>> Records(const char* kind) const {
    std::vector<std::pair<std::string, RawValue>> out;
    UniqueKey k;
    if (RegOpenKeyExW(HKEY_LOCAL_MACHINE, RecordKey(kind).c_str(), 0, KEY_QUERY_VALUE, k.out()) !=
        ERROR_SUCCESS) {
      return out;
    }
    for (internal::NamedValue& value : internal::ListValues(k.get())) {
      out.push_back({Utf8(value.name), RawValue{value.type, std::move(value.data)}});
    }
    return out;
  }

  // A record whose place was put back is forgotten; one that was not is kept for later.
  void Settle(bool done, const char* kind, const std::string& id,
              std::vector<std::string>& left) const {
    if (!done) {
      left.push_back(id);
      return;
    }
    RegDeleteKeyValueW(HKEY_LOCAL_MACHINE, RecordKey(kind).c_str(), Utf16(id).c_str());
  }

  // Before Ward's first write to a place: what it held (or that it was absent), and which of
  // the keys down to it Ward is about to create.
  Status Remember(const Hive& hive, const std::string& key, const std::string& name) const {
    const std::string id = hive.id + "|" + key + "|" + name;
    if (HasRecord("Values", id) || HasRecord("Absent", id)) {
      return OkStatus();
    }
    WARD_ASSIGN_OR_RETURN(const auto before, ReadValue(hive, key, name));
    std::size_t end = 0;
    while (end != std::string::npos) {
      end = key.find('\\', end + 1);
      const std::string partial = key.substr(0, end);
      UniqueKey k;
      if (RegOpenKeyExW(hive.root, (hive.prefix + Utf16(partial)).c_str(), 0, KEY_READ, k.out()) !=
          ERROR_SUCCESS) {
        WARD_RETURN_IF_ERROR(AddRecord("CreatedKeys", hive.id + "|" + partial,
                                       RawValue{REG_DWORD, std::vector<BYTE>(4, 0)}));
      }
    }
    return before.has_value() ? AddRecord("Values", id, *before)
                              : AddRecord("Absent", id, RawValue{REG_DWORD, {0, 0, 0, 0}});
  }

  static Status Write(const Hive& hive, const RegistryPolicyValue& v) {
    UniqueKey k;
    LSTATUS s = RegCreateKeyExW(hive.root, (hive.prefix + Utf16(v.key)).c_str(), 0, nullptr,
                                REG_OPTION_NON_VOLATILE, KEY_SET_VALUE, nullptr, k.out(), nullptr);
    if (s == ERROR_SUCCESS) {
      const RawValue raw = internal::EncodeValue(v);
      s = RegSetValueExW(k.get(), Utf16(v.name).c_str(), 0, raw.type, raw.data.data(),
                         static_cast<DWORD>(raw.data.size()));
    }
    if (s != ERROR_SUCCESS) {
      return std::unexpected(RegError("writing " + hive.shown + "\\" + v.key + "\\" + v.name, s));
    }
    return OkStatus();
  }

  const SettingsLockdownOptions options_;
  std::unique_ptr<RegistryWatch> watch_;
};

}  // namespace

Result<std::unique_ptr<SettingsLockdown>> CreateSettingsLockdown(
    const SettingsLockdownOptions& options) {
  WARD_ASSIGN_OR_RETURN(std::unique_ptr<RegistryWatch> watch, CreateRegistryWatch());
  // Before the first Apply: a user signing in.
  WARD_RETURN_IF_ERROR(watch->Watch({{RegistryHive::kUsers, "", false}}));
  return std::make_unique<RegistrySettingsLockdown>(options, std::move(watch));
}

}  // namespace ward::platform
