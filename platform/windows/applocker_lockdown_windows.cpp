// SPDX-License-Identifier: Apache-2.0
// The application allowlist as AppLocker rules in their Group Policy registry form
// (applocker_policy.h), written with the Win32 registry API below
// HKLM\SOFTWARE\Policies\Microsoft\Windows\SrpV2, the Application Identity service set to start
// automatically, the edition read for the degradation report, drift watched with
// RegNotifyChangeKeyValue (registry_watch.h).
#include <windows.h>

#include <optional>
#include <set>
#include <string>
#include <vector>

#include "registry_values_windows.h"
#include "ward/common/error_windows.h"
#include "ward/platform/app_lockdown.h"
#include "ward/platform/applocker_policy.h"
#include "ward/platform/registry_watch.h"

namespace ward::platform {
namespace {

using internal::RawValue;
using internal::RegError;
using internal::UniqueKey;

constexpr const char* kCollections[] = {"Exe", "Appx"};
// "HKEY_LOCAL_MACHINE\\<key>", for drift reports and errors.
std::string Shown(std::string_view key) { return "HKEY_LOCAL_MACHINE\\" + std::string(key); }

std::string CollectionKey(const char* collection) {
  return std::string(kSrpV2Key) + "\\" + collection;
}

bool KeyExists(const std::string& key) {
  UniqueKey k;
  return RegOpenKeyExW(HKEY_LOCAL_MACHINE, Utf16(key).c_str(), 0, KEY_READ, k.out()) ==
         ERROR_SUCCESS;
}

// The subkeys (rule GUIDs) of a collection; empty when it does not exist.
std::vector<std::string> Subkeys(const std::string& key) {
  std::vector<std::string> out;
  UniqueKey k;
  if (RegOpenKeyExW(HKEY_LOCAL_MACHINE, Utf16(key).c_str(), 0, KEY_READ, k.out()) !=
      ERROR_SUCCESS) {
    return out;
  }
  for (DWORD i = 0;; ++i) {
    wchar_t name[256];
    DWORD size = 256;
    if (RegEnumKeyExW(k.get(), i, name, &size, nullptr, nullptr, nullptr, nullptr) !=
        ERROR_SUCCESS) {
      return out;
    }
    out.push_back(Utf8(std::wstring(name, size)));
  }
}

Status WriteValue(const std::string& key, const std::string& name, const RawValue& raw) {
  UniqueKey k;
  LSTATUS s = RegCreateKeyExW(HKEY_LOCAL_MACHINE, Utf16(key).c_str(), 0, nullptr,
                              REG_OPTION_NON_VOLATILE, KEY_SET_VALUE, nullptr, k.out(), nullptr);
  if (s == ERROR_SUCCESS) {
    s = RegSetValueExW(k.get(), Utf16(name).c_str(), 0, raw.type, raw.data.data(),
                       static_cast<DWORD>(raw.data.size()));
  }
  if (s != ERROR_SUCCESS) {
    return std::unexpected(RegError("writing " + Shown(key) + "\\" + name, s));
  }
  return OkStatus();
}

Status DeleteTree(const std::string& key) {
  const LSTATUS s = RegDeleteTreeW(HKEY_LOCAL_MACHINE, Utf16(key).c_str());
  if (s == ERROR_SUCCESS) {
    // RegDeleteTreeW leaves the key itself.
    RegDeleteKeyW(HKEY_LOCAL_MACHINE, Utf16(key).c_str());
    return OkStatus();
  }
  if (s == ERROR_FILE_NOT_FOUND) {
    return OkStatus();
  }
  return std::unexpected(RegError("deleting " + Shown(key), s));
}

// Copies HKLM\`from` (values and subkeys) to HKLM\`to`, which is created.
Status CopyTree(const std::string& from, const std::string& to) {
  UniqueKey source;
  UniqueKey dest;
  LSTATUS s = RegOpenKeyExW(HKEY_LOCAL_MACHINE, Utf16(from).c_str(), 0, KEY_READ, source.out());
  if (s == ERROR_SUCCESS) {
    s = RegCreateKeyExW(HKEY_LOCAL_MACHINE, Utf16(to).c_str(), 0, nullptr, REG_OPTION_NON_VOLATILE,
                        KEY_ALL_ACCESS, nullptr, dest.out(), nullptr);
  }
  if (s == ERROR_SUCCESS) {
    s = RegCopyTreeW(source.get(), nullptr, dest.get());
  }
  if (s != ERROR_SUCCESS) {
    return std::unexpected(RegError("copying " + Shown(from) + " to " + to, s));
  }
  return OkStatus();
}

std::string ReadEditionId() {
  wchar_t text[128];
  DWORD size = sizeof(text);
  if (RegGetValueW(HKEY_LOCAL_MACHINE, L"SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion",
                   L"EditionID", RRF_RT_REG_SZ, nullptr, text, &size) != ERROR_SUCCESS) {
    return "";
  }
  return Utf8(text);
}

class AppLockerLockdown final : public AppLockdown {
 public:
  AppLockerLockdown(AppLockdownOptions options, std::unique_ptr<RegistryWatch> watch)
      : options_(std::move(options)), watch_(std::move(watch)) {}

  Result<AppApplyReport> Apply(const v1::AppPolicy& apps, v1::Mode mode) override {
    const RegistryPolicy rendered = RenderAppLockerRegistry(CompileAppLockerPolicy(apps, mode));
    AppApplyReport report{.not_enforced = rendered.not_enforced, .os_enforces = true, .notes = {}};
    const std::string edition =
        options_.edition_for_testing.empty() ? ReadEditionId() : options_.edition_for_testing;
    const AppLockerEditionSupport support = AppLockerSupportFor(edition);
    report.os_enforces = support.enforced;
    report.notes.push_back(support.note);
    WARD_RETURN_IF_ERROR(RememberOnce());
    std::size_t written = 0;
    for (const RegistryPolicyValue& v : rendered.values) {
      const RawValue wanted = internal::EncodeValue(v);
      WARD_ASSIGN_OR_RETURN(const auto now, Read(v));
      if (!internal::ValueHolds(now, wanted)) {
        WARD_RETURN_IF_ERROR(WriteValue(v.key, v.name, wanted));
        ++written;
      }
    }
    std::size_t removed = 0;
    for (const std::string& extra : ExtraRules(rendered)) {
      WARD_RETURN_IF_ERROR(DeleteTree(extra));
      ++removed;
    }
    report.notes.push_back(std::to_string(written) + " registry value(s) written, " +
                           std::to_string(removed) + " rule(s) removed");
    WARD_RETURN_IF_ERROR(
        watch_->Watch({{RegistryHive::kMachine, std::string(kSrpV2Key), true},
                       {RegistryHive::kMachine, std::string(kAppIdSvcKey), true}}));
    return report;
  }

  Result<std::vector<SettingDrift>> Drifted(const v1::AppPolicy& apps, v1::Mode mode) override {
    const RegistryPolicy rendered = RenderAppLockerRegistry(CompileAppLockerPolicy(apps, mode));
    std::vector<SettingDrift> out;
    for (const RegistryPolicyValue& v : rendered.values) {
      WARD_ASSIGN_OR_RETURN(const auto now, Read(v));
      if (!internal::ValueHolds(now, internal::EncodeValue(v))) {
        out.push_back({v.setting, Shown(v.key) + "\\" + v.name});
      }
    }
    for (const std::string& extra : ExtraRules(rendered)) {
      out.push_back({"apps.extra-rule", Shown(extra)});
    }
    return out;
  }

  Result<bool> WaitForChange(std::chrono::milliseconds max_wait) override {
    return watch_->WaitForChange(max_wait);
  }

  void Interrupt() override { watch_->Interrupt(); }

  // Puts back the collections as they were (a site's own rules copied back, or none), the
  // service's start type, and deletes the keys Ward created.
  Status Restore() override {
    if (!KeyExists(options_.restore_key)) {
      return OkStatus();  // Ward never wrote anything here
    }
    for (const char* collection : kCollections) {
      WARD_RETURN_IF_ERROR(DeleteTree(CollectionKey(collection)));
      const std::string saved = options_.restore_key + "\\" + collection;
      if (KeyExists(saved)) {
        WARD_RETURN_IF_ERROR(CopyTree(saved, CollectionKey(collection)));
      }
    }
    WARD_ASSIGN_OR_RETURN(const auto start,
                          internal::ReadRawValue(HKEY_LOCAL_MACHINE, Utf16(options_.restore_key),
                                                 L"Start", Shown(options_.restore_key)));
    if (start.has_value()) {
      WARD_RETURN_IF_ERROR(WriteValue(std::string(kAppIdSvcKey), "Start", *start));
    } else {
      RegDeleteKeyValueW(HKEY_LOCAL_MACHINE, Utf16(kAppIdSvcKey).c_str(), L"Start");
    }
    // Keys Ward created, deepest first, when nothing else is in them.
    for (const std::string& key : {CollectionKey("Exe"), CollectionKey("Appx"),
                                   std::string(kSrpV2Key), std::string(kAppIdSvcKey)}) {
      WARD_ASSIGN_OR_RETURN(
          const auto created,
          internal::ReadRawValue(HKEY_LOCAL_MACHINE, Utf16(options_.restore_key + "\\CreatedKeys"),
                                 Utf16(key), options_.restore_key));
      if (created.has_value()) {
        RegDeleteKeyW(HKEY_LOCAL_MACHINE, Utf16(key).c_str());  // fails, as wanted, if not empty
      }
    }
    return DeleteTree(options_.restore_key);
  }

 private:
  static Result<std::optional<RawValue>> Read(const RegistryPolicyValue& v) {
    return internal::ReadRawValue(HKEY_LOCAL_MACHINE, Utf16(v.key), Utf16(v.name), Shown(v.key));
  }

  // Rule keys in Ward's collections that the compiled policy does not have.
  static std::vector<std::string> ExtraRules(const RegistryPolicy& rendered) {
    std::set<std::string> wanted;
    for (const RegistryPolicyValue& v : rendered.values) {
      wanted.insert(v.key);
    }
    std::vector<std::string> out;
    for (const char* collection : kCollections) {
      for (const std::string& guid : Subkeys(CollectionKey(collection))) {
        const std::string key = CollectionKey(collection) + "\\" + guid;
        if (!wanted.contains(key)) {
          out.push_back(key);
        }
      }
    }
    return out;
  }

  // Before Ward's first write: the collections as they were (copied below the restore key), the
  // service's start type, and which keys Ward is about to create. Learners cannot write HKLM.
  Status RememberOnce() const {
    if (KeyExists(options_.restore_key)) {
      return OkStatus();
    }
    const std::string created = options_.restore_key + "\\CreatedKeys";
    const RawValue marker{REG_DWORD, std::vector<BYTE>(4, 0)};
    for (const std::string& key : {std::string(kSrpV2Key), CollectionKey("Exe"),
                                   CollectionKey("Appx"), std::string(kAppIdSvcKey)}) {
      if (!KeyExists(key)) {
        WARD_RETURN_IF_ERROR(WriteValue(created, key, marker));
      }
    }
    for (const char* collection : kCollections) {
      if (KeyExists(CollectionKey(collection))) {
        WARD_RETURN_IF_ERROR(
            CopyTree(CollectionKey(collection), options_.restore_key + "\\" + collection));
      }
    }
    WARD_ASSIGN_OR_RETURN(const auto start,
                          internal::ReadRawValue(HKEY_LOCAL_MACHINE, Utf16(kAppIdSvcKey), L"Start",
                                                 Shown(kAppIdSvcKey)));
    if (start.has_value()) {
      WARD_RETURN_IF_ERROR(WriteValue(options_.restore_key, "Start", *start));
    } else {
      // The restore key must exist even when there is nothing else to keep.
      WARD_RETURN_IF_ERROR(WriteValue(created, "(restore)", marker));
    }
    return OkStatus();
  }

  const AppLockdownOptions options_;
  std::unique_ptr<RegistryWatch> watch_;
};

}  // namespace

Result<std::unique_ptr<AppLockdown>> CreateAppLockdown(const AppLockdownOptions& options) {
  WARD_ASSIGN_OR_RETURN(std::unique_ptr<RegistryWatch> watch, CreateRegistryWatch());
  return std::make_unique<AppLockerLockdown>(options, std::move(watch));
}

}  // namespace ward::platform
