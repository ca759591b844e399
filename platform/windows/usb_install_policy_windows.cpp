// SPDX-License-Identifier: Apache-2.0
// The USB registry plan written below HKEY_LOCAL_MACHINE exactly as Group Policy leaves it
// (switches as REG_DWORD, each list as a subkey of numbered REG_SZ values, nothing else in the
// places Ward owns), read back for drift, watched with RegNotifyChangeKeyValue. Before the first
// write the two policy keys are copied (RegCopyTreeW) below the restore key; Restore() puts the
// copies back.
#include <windows.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <map>
#include <optional>
#include <utility>

#include "registry_values_windows.h"
#include "ward/common/error_windows.h"
#include "ward/platform/usb_install_policy.h"

namespace ward::platform {
namespace {

// The two keys Ward writes below, saved whole for Restore(), with the parent created for them.
struct SavedKey {
  const char* key;
  const char* parent;
  const char* slot;  // subkey name below the restore key
};
constexpr std::array kSaved = {
    SavedKey{kDeviceInstallRestrictionsKey, "Software\\Policies\\Microsoft\\Windows\\DeviceInstall",
             "Restrictions"},
    SavedKey{kRemovableDisksKey, "Software\\Policies\\Microsoft\\Windows\\RemovableStorageDevices",
             "RemovableDisks"}};
// Changes anywhere below it wake WaitForChange (a deleted DeviceInstall key included).
constexpr char kWatchedKey[] = "Software\\Policies\\Microsoft\\Windows";

Error RegError(std::string_view context, LSTATUS status) {
  return WindowsError(context, static_cast<std::uint32_t>(status));
}

struct KeyCloser {
  void operator()(HKEY key) const { RegCloseKey(key); }
};
using Key = std::unique_ptr<std::remove_pointer_t<HKEY>, KeyCloser>;

Key OpenKey(const std::string& path, REGSAM access) {
  HKEY key = nullptr;
  if (RegOpenKeyExW(HKEY_LOCAL_MACHINE, Utf16(path).c_str(), 0, access, &key) != ERROR_SUCCESS) {
    return nullptr;
  }
  return Key(key);
}

bool KeyExists(const std::string& path) { return OpenKey(path, KEY_READ) != nullptr; }

// A value as the plan states it: REG_DWORD data, or REG_SZ text (with or without its NUL).
struct Seen {
  DWORD type = REG_NONE;
  std::vector<BYTE> data;
};

std::string Describe(const std::string& name, const Seen& seen) {
  if (seen.type == REG_DWORD && seen.data.size() == sizeof(DWORD)) {
    DWORD dword = 0;
    std::memcpy(&dword, seen.data.data(), sizeof(dword));
    return FormatRegistryValueLine(name, RegistryType::kDword, dword, "");
  }
  if (seen.type == REG_SZ) {
    std::wstring text(reinterpret_cast<const wchar_t*>(seen.data.data()),
                      seen.data.size() / sizeof(wchar_t));
    while (!text.empty() && text.back() == L'\0') {
      text.pop_back();
    }
    return FormatRegistryValueLine(name, RegistryType::kSz, 0, Utf8(text));
  }
  return "\"" + name + "\" of registry type " + std::to_string(seen.type);
}

std::string Wanted(const RegistryPolicyValue& v) {
  return FormatRegistryValueLine(v.name, v.type, v.dword, v.text);
}

// Every value of a key as (name, seen); empty when the key does not exist.
std::map<std::string, Seen> ReadKey(const std::string& path) {
  std::map<std::string, Seen> out;
  const Key key = OpenKey(path, KEY_QUERY_VALUE);
  if (key == nullptr) {
    return out;
  }
  for (internal::NamedValue& value : internal::ListValues(key.get())) {
    out[Utf8(value.name)] = Seen{value.type, std::move(value.data)};
  }
  return out;
}

// The plan regrouped per key: key -> name -> planned value.
std::map<std::string, std::map<std::string, const RegistryPolicyValue*>> ByKey(
    const UsbRegistryPlan& plan) {
  std::map<std::string, std::map<std::string, const RegistryPolicyValue*>> out;
  for (const RegistryPolicyValue& v : plan.values) {
    out[v.key][v.name] = &v;
  }
  return out;
}

// Places the plan owns but does not list, present now: key -> names.
std::map<std::string, std::vector<std::string>> Strays(const UsbRegistryPlan& plan) {
  const auto planned = ByKey(plan);
  std::map<std::string, std::vector<std::string>> out;
  const auto planned_here = [&](const std::string& key, const std::string& name) {
    const auto it = planned.find(key);
    return it != planned.end() && it->second.contains(name);
  };
  for (const std::string& key : plan.owned_keys) {
    for (const auto& [name, seen] : ReadKey(key)) {
      if (!planned_here(key, name)) {
        out[key].push_back(name);
      }
    }
  }
  std::map<std::string, std::map<std::string, Seen>> cache;
  for (const auto& [key, name] : plan.owned_values) {
    if (!cache.contains(key)) {
      cache[key] = ReadKey(key);
    }
    if (cache[key].contains(name) && !planned_here(key, name)) {
      out[key].push_back(name);
    }
  }
  return out;
}

class RegistryUsbInstallPolicy final : public UsbInstallPolicy {
 public:
  RegistryUsbInstallPolicy(UsbInstallPolicyOptions options, HANDLE changed, HANDLE interrupt)
      : options_(std::move(options)), changed_(changed), interrupt_(interrupt) {}
  ~RegistryUsbInstallPolicy() override {
    watched_.reset();
    CloseHandle(changed_);
    CloseHandle(interrupt_);
  }
  RegistryUsbInstallPolicy(const RegistryUsbInstallPolicy&) = delete;
  RegistryUsbInstallPolicy& operator=(const RegistryUsbInstallPolicy&) = delete;

  Status Apply(const UsbRegistryPlan& plan) override {
    if (plan.values.empty()) {
      // Nothing for Windows to enforce (MONITOR mode, or no rule it can express): the keys go
      // back to what they were before Ward, not to Ward's last plan.
      WARD_RETURN_IF_ERROR(Restore());
      return Arm();
    }
    WARD_RETURN_IF_ERROR(SaveOnce());
    for (const auto& [key, names] : Strays(plan)) {
      const Key k = OpenKey(key, KEY_SET_VALUE);
      for (const std::string& name : names) {
        const LSTATUS s =
            k == nullptr ? ERROR_FILE_NOT_FOUND : RegDeleteValueW(k.get(), Utf16(name).c_str());
        if (s != ERROR_SUCCESS && s != ERROR_FILE_NOT_FOUND) {
          return std::unexpected(RegError("deleting HKEY_LOCAL_MACHINE\\" + key + "\\" + name, s));
        }
      }
    }
    for (const auto& [key, values] : ByKey(plan)) {
      HKEY raw = nullptr;
      LSTATUS s = RegCreateKeyExW(HKEY_LOCAL_MACHINE, Utf16(key).c_str(), 0, nullptr,
                                  REG_OPTION_NON_VOLATILE, KEY_SET_VALUE, nullptr, &raw, nullptr);
      if (s != ERROR_SUCCESS) {
        return std::unexpected(RegError("creating HKEY_LOCAL_MACHINE\\" + key, s));
      }
      const Key k(raw);
      for (const auto& [name, v] : values) {
        if (v->type == RegistryType::kDword) {
          const DWORD dword = v->dword;
          s = RegSetValueExW(k.get(), Utf16(name).c_str(), 0, REG_DWORD,
                             reinterpret_cast<const BYTE*>(&dword), sizeof(dword));
        } else {
          const std::wstring text = Utf16(v->text);
          s = RegSetValueExW(k.get(), Utf16(name).c_str(), 0, REG_SZ,
                             reinterpret_cast<const BYTE*>(text.c_str()),
                             static_cast<DWORD>((text.size() + 1) * sizeof(wchar_t)));
        }
        if (s != ERROR_SUCCESS) {
          return std::unexpected(RegError("writing HKEY_LOCAL_MACHINE\\" + key + "\\" + name, s));
        }
      }
    }
    return Arm();
  }

  Result<std::vector<UsbPolicyDrift>> Drifted(const UsbRegistryPlan& plan) override {
    std::vector<UsbPolicyDrift> out;
    for (const auto& [key, values] : ByKey(plan)) {
      const auto now = ReadKey(key);
      for (const auto& [name, v] : values) {
        const auto it = now.find(name);
        const std::string where = "HKEY_LOCAL_MACHINE\\" + key + "\\" + name;
        if (it == now.end()) {
          out.push_back({where, "missing"});
        } else if (const std::string seen = Describe(name, it->second); seen != Wanted(*v)) {
          out.push_back({where, seen});
        }
      }
    }
    for (const auto& [key, names] : Strays(plan)) {
      const auto now = ReadKey(key);
      for (const std::string& name : names) {
        out.push_back({"HKEY_LOCAL_MACHINE\\" + key + "\\" + name, Describe(name, now.at(name))});
      }
    }
    return out;
  }

  Result<bool> WaitForChange(std::chrono::milliseconds max_wait) override {
    if (watched_ == nullptr) {
      WARD_RETURN_IF_ERROR(Arm());
    }
    const HANDLE events[] = {changed_, interrupt_};
    const auto ms = static_cast<DWORD>(
        std::clamp<std::chrono::milliseconds::rep>(max_wait.count(), 0, INFINITE - 1));
    const DWORD r = WaitForMultipleObjects(2, events, FALSE, ms);
    if (r == WAIT_OBJECT_0) {
      WARD_RETURN_IF_ERROR(Arm());  // one-shot: register again before the caller looks
      return true;
    }
    if (r == WAIT_OBJECT_0 + 1 || r == WAIT_TIMEOUT) {
      return false;
    }
    return std::unexpected(WindowsError("waiting for registry changes", GetLastError()));
  }

  void Interrupt() override { SetEvent(interrupt_); }

  Status Restore() override {
    const Key saved = OpenKey(options_.restore_key, KEY_READ);
    if (saved == nullptr) {
      return OkStatus();  // Ward never wrote here
    }
    const auto records = ReadKey(options_.restore_key);
    for (const SavedKey& k : kSaved) {
      LSTATUS s = RegDeleteTreeW(HKEY_LOCAL_MACHINE, Utf16(k.key).c_str());
      if (s == ERROR_SUCCESS) {
        s = RegDeleteKeyW(HKEY_LOCAL_MACHINE, Utf16(k.key).c_str());
      }
      if (s != ERROR_SUCCESS && s != ERROR_FILE_NOT_FOUND) {
        return std::unexpected(RegError("deleting HKEY_LOCAL_MACHINE\\" + std::string(k.key), s));
      }
      if (records.contains(std::string(k.slot) + "Existed")) {
        HKEY raw = nullptr;
        s = RegCreateKeyExW(HKEY_LOCAL_MACHINE, Utf16(k.key).c_str(), 0, nullptr,
                            REG_OPTION_NON_VOLATILE, KEY_ALL_ACCESS, nullptr, &raw, nullptr);
        if (s == ERROR_SUCCESS) {
          const Key target(raw);
          s = RegCopyTreeW(saved.get(), Utf16(k.slot).c_str(), target.get());
        }
        if (s != ERROR_SUCCESS) {
          return std::unexpected(
              RegError("putting back HKEY_LOCAL_MACHINE\\" + std::string(k.key), s));
        }
      } else if (!records.contains(std::string(k.slot) + "ParentExisted")) {
        RegDeleteKeyW(HKEY_LOCAL_MACHINE, Utf16(k.parent).c_str());  // only if empty
      }
    }
    const LSTATUS s = RegDeleteTreeW(HKEY_LOCAL_MACHINE, Utf16(options_.restore_key).c_str());
    if (s == ERROR_SUCCESS) {
      RegDeleteKeyW(HKEY_LOCAL_MACHINE, Utf16(options_.restore_key).c_str());
    }
    return OkStatus();
  }

 private:
  // Before the first write: each policy key copied whole, and whether it (and its parent)
  // existed. Learners cannot write HKEY_LOCAL_MACHINE, so they cannot change the copy.
  Status SaveOnce() {
    if (KeyExists(options_.restore_key)) {
      return OkStatus();
    }
    HKEY raw = nullptr;
    LSTATUS s = RegCreateKeyExW(HKEY_LOCAL_MACHINE, Utf16(options_.restore_key).c_str(), 0, nullptr,
                                REG_OPTION_NON_VOLATILE, KEY_ALL_ACCESS, nullptr, &raw, nullptr);
    if (s != ERROR_SUCCESS) {
      return std::unexpected(RegError("creating HKEY_LOCAL_MACHINE\\" + options_.restore_key, s));
    }
    const Key saved(raw);
    const DWORD one = 1;
    for (const SavedKey& k : kSaved) {
      const auto mark = [&](const std::string& name) {
        return RegSetValueExW(saved.get(), Utf16(name).c_str(), 0, REG_DWORD,
                              reinterpret_cast<const BYTE*>(&one), sizeof(one));
      };
      if (KeyExists(k.parent)) {
        s = mark(std::string(k.slot) + "ParentExisted");
      }
      if (s == ERROR_SUCCESS && KeyExists(k.key)) {
        HKEY slot = nullptr;
        s = RegCreateKeyExW(saved.get(), Utf16(k.slot).c_str(), 0, nullptr, REG_OPTION_NON_VOLATILE,
                            KEY_ALL_ACCESS, nullptr, &slot, nullptr);
        if (s == ERROR_SUCCESS) {
          const Key slot_key(slot);
          const Key source = OpenKey(k.key, KEY_READ);
          s = source == nullptr ? ERROR_FILE_NOT_FOUND
                                : RegCopyTreeW(source.get(), nullptr, slot_key.get());
        }
        if (s == ERROR_SUCCESS) {
          s = mark(std::string(k.slot) + "Existed");
        }
      }
      if (s != ERROR_SUCCESS) {
        RegDeleteTreeW(HKEY_LOCAL_MACHINE, Utf16(options_.restore_key).c_str());
        RegDeleteKeyW(HKEY_LOCAL_MACHINE, Utf16(options_.restore_key).c_str());
        return std::unexpected(RegError("saving HKEY_LOCAL_MACHINE\\" + std::string(k.key), s));
      }
    }
    return OkStatus();
  }

  Status Arm() {
    watched_ = OpenKey(kWatchedKey, KEY_NOTIFY);
    if (watched_ == nullptr) {
      HKEY raw = nullptr;
      const LSTATUS s =
          RegCreateKeyExW(HKEY_LOCAL_MACHINE, Utf16(kWatchedKey).c_str(), 0, nullptr,
                          REG_OPTION_NON_VOLATILE, KEY_NOTIFY, nullptr, &raw, nullptr);
      if (s != ERROR_SUCCESS) {
        return std::unexpected(
            RegError("opening HKEY_LOCAL_MACHINE\\" + std::string(kWatchedKey), s));
      }
      watched_.reset(raw);
    }
    ResetEvent(changed_);
    const LSTATUS s = RegNotifyChangeKeyValue(
        watched_.get(), TRUE, REG_NOTIFY_CHANGE_NAME | REG_NOTIFY_CHANGE_LAST_SET, changed_, TRUE);
    if (s != ERROR_SUCCESS) {
      watched_.reset();
      return std::unexpected(RegError("watching the device installation policy", s));
    }
    return OkStatus();
  }

  const UsbInstallPolicyOptions options_;
  HANDLE changed_;    // manual-reset: the watched key changed
  HANDLE interrupt_;  // auto-reset: Interrupt()
  Key watched_;
};

}  // namespace

Result<std::unique_ptr<UsbInstallPolicy>> CreateUsbInstallPolicy(
    const UsbInstallPolicyOptions& options) {
  HANDLE changed = CreateEventW(nullptr, TRUE, FALSE, nullptr);
  HANDLE interrupt = CreateEventW(nullptr, FALSE, FALSE, nullptr);
  if (changed == nullptr || interrupt == nullptr) {
    const DWORD code = GetLastError();
    if (changed != nullptr) {
      CloseHandle(changed);
    }
    if (interrupt != nullptr) {
      CloseHandle(interrupt);
    }
    return std::unexpected(WindowsError("creating events", code));
  }
  return std::make_unique<RegistryUsbInstallPolicy>(options, changed, interrupt);
}

}  // namespace ward::platform
