// SPDX-License-Identifier: Apache-2.0
#include "ward/testing/fake_usb_install_policy.h"

#include <algorithm>

namespace ward::testing {
namespace {

bool Owned(const platform::UsbRegistryPlan& plan, const std::string& key, const std::string& name) {
  return std::ranges::find(plan.owned_keys, key) != plan.owned_keys.end() ||
         std::ranges::find(plan.owned_values, std::pair(key, name)) != plan.owned_values.end();
}

bool Planned(const platform::UsbRegistryPlan& plan, const std::string& key,
             const std::string& name) {
  return std::ranges::any_of(plan.values, [&](const platform::RegistryPolicyValue& v) {
    return v.key == key && v.name == name;
  });
}

}  // namespace

std::string UsbValueLine(const platform::RegistryPolicyValue& value) {
  return platform::FormatRegistryValueLine(value.name, value.type, value.dword, value.text);
}

FakeUsbInstallPolicy::FakeUsbInstallPolicy(Machine machine) : machine_(std::move(machine)) {}

Status FakeUsbInstallPolicy::Apply(const platform::UsbRegistryPlan& plan) {
  std::scoped_lock lock(mu_);
  if (plan.values.empty()) {
    if (before_.has_value()) {
      machine_ = *std::exchange(before_, std::nullopt);
    }
    return OkStatus();
  }
  if (!before_.has_value()) {
    before_ = machine_;
  }
  std::erase_if(machine_, [&](const auto& entry) {
    const auto& [key, name] = entry.first;
    return Owned(plan, key, name) && !Planned(plan, key, name);
  });
  for (const platform::RegistryPolicyValue& v : plan.values) {
    machine_[{v.key, v.name}] = UsbValueLine(v);
  }
  return OkStatus();
}

Result<std::vector<platform::UsbPolicyDrift>> FakeUsbInstallPolicy::Drifted(
    const platform::UsbRegistryPlan& plan) {
  std::scoped_lock lock(mu_);
  std::vector<platform::UsbPolicyDrift> out;
  for (const platform::RegistryPolicyValue& v : plan.values) {
    const auto it = machine_.find({v.key, v.name});
    if (it == machine_.end() || it->second != UsbValueLine(v)) {
      out.push_back({v.key + "\\" + v.name, it == machine_.end() ? "missing" : it->second});
    }
  }
  for (const auto& [place, line] : machine_) {
    if (Owned(plan, place.first, place.second) && !Planned(plan, place.first, place.second)) {
      out.push_back({place.first + "\\" + place.second, line});
    }
  }
  return out;
}

Result<bool> FakeUsbInstallPolicy::WaitForChange(std::chrono::milliseconds max_wait) {
  std::unique_lock lock(mu_);
  changed_cv_.wait_for(lock, max_wait, [&] { return changed_ || interrupted_; });
  const bool changed = changed_ && !interrupted_;
  changed_ = false;
  interrupted_ = false;
  return changed;
}

void FakeUsbInstallPolicy::Interrupt() {
  std::scoped_lock lock(mu_);
  interrupted_ = true;
  changed_cv_.notify_all();
}

Status FakeUsbInstallPolicy::Restore() {
  std::scoped_lock lock(mu_);
  if (before_.has_value()) {
    machine_ = *std::exchange(before_, std::nullopt);
  }
  return OkStatus();
}

void FakeUsbInstallPolicy::SetForTesting(const std::string& key, const std::string& name,
                                         std::optional<std::string> line) {
  std::scoped_lock lock(mu_);
  if (line.has_value()) {
    machine_[{key, name}] = std::move(*line);
  } else {
    machine_.erase({key, name});
  }
  changed_ = true;
  changed_cv_.notify_all();
}

FakeUsbInstallPolicy::Machine FakeUsbInstallPolicy::MachineForTesting() const {
  std::scoped_lock lock(mu_);
  return machine_;
}

}  // namespace ward::testing
