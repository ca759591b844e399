// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <condition_variable>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <utility>

#include "ward/platform/usb_install_policy.h"

namespace ward::testing {

// An in-memory HKEY_LOCAL_MACHINE: (key, value name) -> the value's .reg line. Keeps the
// UsbInstallPolicy contract (exact lists, owned places, restore). Thread-safe (tests change the
// machine from other threads).
class FakeUsbInstallPolicy final : public platform::UsbInstallPolicy {
 public:
  using Machine = std::map<std::pair<std::string, std::string>, std::string>;
  explicit FakeUsbInstallPolicy(Machine machine = {});

  Status Apply(const platform::UsbRegistryPlan& plan) override;
  Result<std::vector<platform::UsbPolicyDrift>> Drifted(
      const platform::UsbRegistryPlan& plan) override;
  Result<bool> WaitForChange(std::chrono::milliseconds max_wait) override;
  void Interrupt() override;
  Status Restore() override;

  // Someone other than Ward writes (or with nullopt deletes) a value.
  void SetForTesting(const std::string& key, const std::string& name,
                     std::optional<std::string> line);
  Machine MachineForTesting() const;

 private:
  mutable std::mutex mu_;
  std::condition_variable changed_cv_;
  Machine machine_;                // guarded by mu_
  std::optional<Machine> before_;  // guarded by mu_: the machine before the first Apply
  bool changed_ = false;           // guarded by mu_
  bool interrupted_ = false;       // guarded by mu_
};

// The .reg line of a planned value ("\"1\"=\"USB\\\\Class_08\"").
std::string UsbValueLine(const platform::RegistryPolicyValue& value);

}  // namespace ward::testing
