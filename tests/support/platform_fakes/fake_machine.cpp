// SPDX-License-Identifier: Apache-2.0
#include "ward/testing/fake_machine.h"

namespace ward::testing {

FakeMachine::FakeMachine(std::map<std::string, std::string> places) : places_(std::move(places)) {}

void FakeMachine::Put(const std::string& place, std::optional<std::string> value) {
  if (value.has_value()) {
    places_[place] = *std::move(value);
  } else {
    places_.erase(place);
  }
}

void FakeMachine::Set(const std::string& place, std::optional<std::string> value) {
  std::scoped_lock lock(mu_);
  if (!remembered_.contains(place)) {
    const auto it = places_.find(place);
    remembered_[place] = it == places_.end() ? std::nullopt : std::optional(it->second);
  }
  Put(place, std::move(value));
}

std::map<std::string, std::string> FakeMachine::Places() const {
  std::scoped_lock lock(mu_);
  return places_;
}

bool FakeMachine::WaitForChange(std::chrono::milliseconds max_wait) {
  std::unique_lock lock(mu_);
  changed_cv_.wait_for(lock, max_wait, [&] { return changed_ || interrupted_; });
  const bool changed = changed_ && !interrupted_;
  changed_ = false;
  interrupted_ = false;
  return changed;
}

void FakeMachine::Interrupt() {
  {
    std::scoped_lock lock(mu_);
    interrupted_ = true;
  }
  changed_cv_.notify_all();
}

void FakeMachine::Restore() {
  std::scoped_lock lock(mu_);
  for (const auto& [place, value] : remembered_) {
    Put(place, value);
  }
  remembered_.clear();
}

void FakeMachine::ChangeForTesting(const std::string& place, std::optional<std::string> value) {
  {
    std::scoped_lock lock(mu_);
    Put(place, std::move(value));
    changed_ = true;
  }
  changed_cv_.notify_all();
}

}  // namespace ward::testing
