// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "ward/common/result.h"

// Wakes when anything changes below registry keys Ward writes: values set or deleted, subkeys
// added or deleted, whole subtrees. The declarative controls' WaitForChange() is this: the
// settings lock-down (policy keys of the machine and of each user hive), AppLocker's SrpV2
// collections, the USB restrictions. On a change the control's owner looks with Drifted() and puts
// the plan back (drift_guard.h). Windows only (windows/registry_watch_windows.cpp).
namespace ward::platform {

enum class RegistryHive : std::uint8_t {
  kMachine,  // HKEY_LOCAL_MACHINE
  kUsers,    // HKEY_USERS (a user's hive is "S-1-5-21-...\\..." below it)
};

struct WatchedKey {
  RegistryHive hive = RegistryHive::kMachine;
  std::string key;      // below the hive ("SOFTWARE\\Policies\\..."); "" is the hive itself
  bool subtree = true;  // false: the key's own values and direct subkeys only
};

// Confined to one thread, except Interrupt(), which is thread-safe.
class RegistryWatch {
 public:
  virtual ~RegistryWatch() = default;

  // From now on watches `keys`, replacing what was watched. A key that does not exist (deleted
  // behind Ward's back, or a user's hive not loaded) is watched through its nearest existing
  // parent, so its coming back is seen too.
  virtual Status Watch(const std::vector<WatchedKey>& keys) = 0;

  // Waits up to `max_wait`; true when something watched changed (and the watch is armed again
  // before returning, so no later change is missed), false on timeout or Interrupt().
  virtual Result<bool> WaitForChange(std::chrono::milliseconds max_wait) = 0;

  // Wakes a WaitForChange() in progress (or the next one) with false.
  virtual void Interrupt() = 0;
};

Result<std::unique_ptr<RegistryWatch>> CreateRegistryWatch();

}  // namespace ward::platform
