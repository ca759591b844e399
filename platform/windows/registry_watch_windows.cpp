// SPDX-License-Identifier: Apache-2.0
// RegNotifyChangeKeyValue on each watched key (names and values, with or without its subtree),
// all signalling one event. Notifications are one-shot: every wake-up arms them again.
#include <windows.h>

#include <algorithm>
#include <string>
#include <vector>

#include "registry_values_windows.h"
#include "ward/common/error_windows.h"
#include "ward/common/unique_handle_windows.h"
#include "ward/platform/registry_watch.h"

namespace ward::platform {
namespace {

using internal::RegError;
using internal::UniqueKey;

class WindowsRegistryWatch final : public RegistryWatch {
 public:
  WindowsRegistryWatch(UniqueHandle changed, UniqueHandle interrupt)
      : changed_(std::move(changed)), interrupt_(std::move(interrupt)) {}

  Status Watch(const std::vector<WatchedKey>& keys) override {
    keys_ = keys;
    return Arm();
  }

  Result<bool> WaitForChange(std::chrono::milliseconds max_wait) override {
    const HANDLE events[] = {changed_.get(), interrupt_.get()};
    const auto ms = static_cast<DWORD>(
        std::clamp<std::chrono::milliseconds::rep>(max_wait.count(), 0, INFINITE - 1));
    const DWORD r = WaitForMultipleObjects(2, events, FALSE, ms);
    if (r == WAIT_OBJECT_0) {
      // Arm again before the caller looks, so a change after its look is not missed.
      WARD_RETURN_IF_ERROR(Arm());
      return true;
    }
    if (r == WAIT_OBJECT_0 + 1 || r == WAIT_TIMEOUT) {
      return false;
    }
    return std::unexpected(WindowsError("waiting for registry changes", GetLastError()));
  }

  void Interrupt() override { SetEvent(interrupt_.get()); }

 private:
  // Opens `key`, or its nearest existing parent (the hive itself at worst). A parent is watched
  // without its subtree: it only has to tell when the missing key comes (back).
  struct Opened {
    UniqueKey key;
    bool parent = false;
  };
  static Result<Opened> OpenNearest(RegistryHive hive, std::string key) {
    const HKEY root = hive == RegistryHive::kMachine ? HKEY_LOCAL_MACHINE : HKEY_USERS;
    for (bool parent = false;; parent = true) {
      UniqueKey k;
      const LSTATUS s =
          RegOpenKeyExW(root, key.empty() ? nullptr : Utf16(key).c_str(), 0, KEY_NOTIFY, k.out());
      if (s == ERROR_SUCCESS) {
        return Opened{std::move(k), parent};
      }
      if (s != ERROR_FILE_NOT_FOUND || key.empty()) {
        return std::unexpected(RegError(
            std::string("opening ") +
                (hive == RegistryHive::kMachine ? "HKEY_LOCAL_MACHINE\\" : "HKEY_USERS\\") + key +
                " to watch it",
            s));
      }
      const std::size_t bar = key.rfind('\\');
      key.resize(bar == std::string::npos ? 0 : bar);
    }
  }

  // Closing the old handles may signal the event, so it is reset before registering again.
  Status Arm() {
    watched_.clear();
    std::vector<bool> subtree;
    for (const WatchedKey& key : keys_) {
      WARD_ASSIGN_OR_RETURN(Opened opened, OpenNearest(key.hive, key.key));
      watched_.push_back(std::move(opened.key));
      subtree.push_back(key.subtree && !opened.parent);
    }
    ResetEvent(changed_.get());
    for (std::size_t i = 0; i < watched_.size(); ++i) {
      const LSTATUS s = RegNotifyChangeKeyValue(watched_[i].get(), subtree[i] ? TRUE : FALSE,
                                                REG_NOTIFY_CHANGE_NAME | REG_NOTIFY_CHANGE_LAST_SET,
                                                changed_.get(), TRUE);
      if (s != ERROR_SUCCESS) {
        watched_.clear();
        return std::unexpected(RegError("watching the registry", s));
      }
    }
    return OkStatus();
  }

  UniqueHandle changed_;    // manual-reset: a watched key changed
  UniqueHandle interrupt_;  // auto-reset: Interrupt()
  std::vector<WatchedKey> keys_;
  std::vector<UniqueKey> watched_;  // open while notifications wait
};

}  // namespace

Result<std::unique_ptr<RegistryWatch>> CreateRegistryWatch() {
  UniqueHandle changed(CreateEventW(nullptr, TRUE, FALSE, nullptr));
  UniqueHandle interrupt(CreateEventW(nullptr, FALSE, FALSE, nullptr));
  if (!changed.valid() || !interrupt.valid()) {
    return std::unexpected(WindowsError("creating events", GetLastError()));
  }
  return std::make_unique<WindowsRegistryWatch>(std::move(changed), std::move(interrupt));
}

}  // namespace ward::platform
