// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <optional>
#include <string>

namespace ward::testing {

// The in-memory machine behind the fake declarative controls (settings, applications): places
// ("a setting", "a registry key\\value") with their values, what each held before Ward's first
// write (for Restore), and a change signal for WaitForChange. Thread-safe (tests change the
// machine from other threads).
class FakeMachine {
 public:
  explicit FakeMachine(std::map<std::string, std::string> places = {});

  // Ward sets (or with nullopt deletes) a place; its value before Ward's first write is kept.
  void Set(const std::string& place, std::optional<std::string> value);
  std::map<std::string, std::string> Places() const;

  // The control's WaitForChange / Interrupt / Restore.
  bool WaitForChange(std::chrono::milliseconds max_wait);
  void Interrupt();
  void Restore();

  // Someone other than Ward changes (or with nullopt deletes) a place.
  void ChangeForTesting(const std::string& place, std::optional<std::string> value);

 private:
  void Put(const std::string& place, std::optional<std::string> value);  // mu_ held

  mutable std::mutex mu_;
  std::condition_variable changed_cv_;
  std::map<std::string, std::string> places_;                     // guarded by mu_
  std::map<std::string, std::optional<std::string>> remembered_;  // guarded by mu_
  bool changed_ = false;                                          // guarded by mu_
  bool interrupted_ = false;                                      // guarded by mu_
};

}  // namespace ward::testing
