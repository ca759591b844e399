// SPDX-License-Identifier: Apache-2.0
#include "ward/core/settings_enforcer.h"

namespace ward::core {
namespace {
constexpr auto kIdleWait = std::chrono::hours(1);
}  // namespace

SettingsEnforcer::SettingsEnforcer(platform::SettingsControl& control, EventSink& events,
                                   FailurePolicy& failures, EventFactory& factory,
                                   std::string learner_group)
    : control_(control),
      events_(events),
      failures_(failures),
      factory_(factory),
      learner_group_(std::move(learner_group)) {}

SettingsEnforcer::~SettingsEnforcer() { Stop(); }

void SettingsEnforcer::Start(std::shared_ptr<const ActivePolicy> policy) {
  thread_.Start(std::move(policy), [this] { Loop(); });
}

void SettingsEnforcer::SetPolicy(std::shared_ptr<const ActivePolicy> policy) {
  thread_.Post(std::move(policy));
}

void SettingsEnforcer::Stop() {
  if (!thread_.Stop()) {
    return;
  }
}

SettingsEnforcerStats SettingsEnforcer::Stats() const {
  std::scoped_lock lock(mutex_);
  return stats_;
}

void SettingsEnforcer::Loop() {
  while (!thread_.stopping()) {
    if (auto changed = thread_.TakePolicy(); changed != nullptr) {
      policy_ = std::move(changed);
      ApplyPolicy();
    }
    auto change = control_.WaitForChange(kIdleWait);
    if (!change.has_value()) {
      failures_.Handle(FailureReason::kSettingsApplyFailed, change.error().ToString());
      return;
    }
    if (*change && !files_.empty()) {
      RevertDrift();
    }
  }
}

void SettingsEnforcer::ApplyPolicy() {
  auto files = RenderSettings(policy_->policy.settings(), learner_group_);
  Status applied = files.has_value() ? control_.Apply(*files) : std::unexpected(files.error());
  if (!applied.has_value()) {
    failures_.Handle(FailureReason::kSettingsApplyFailed, applied.error().ToString());
    RecordSettings(v1::SettingsEvent::KIND_APPLY_FAILED, "", applied.error().ToString(),
                   v1::PRIORITY_HIGH);
    return;
  }
  files_ = *std::move(files);
  {
    std::scoped_lock lock(mutex_);
    ++stats_.applied;
  }
  for (const auto& lock : policy_->policy.settings().settings()) {
    RecordSettings(v1::SettingsEvent::KIND_APPLIED, lock.name(),
                   lock.locked() ? "locked" : "default", v1::PRIORITY_NORMAL);
  }
}

void SettingsEnforcer::RevertDrift() {
  auto drifted = control_.Drifted(files_);
  if (!drifted.has_value() || drifted->empty()) {
    return;
  }
  auto applied = control_.Apply(files_);
  if (!applied.has_value()) {
    failures_.Handle(FailureReason::kSettingsApplyFailed, applied.error().ToString());
  }
  std::string list;
  for (const auto& path : *drifted) {
    RecordSettings(v1::SettingsEvent::KIND_DRIFT_REVERTED, path.string(),
                   applied.has_value() ? "changed outside Ward; put back" : "could not put back",
                   v1::PRIORITY_HIGH);
    list += (list.empty() ? "" : ", ") + path.string();
  }
  {
    std::scoped_lock lock(mutex_);
    stats_.reverted += drifted->size();
  }
  events_.Record(TamperEventOf(factory_, policy_->policy.version(),
                               "settings files changed: " + list, drifted->size()));
}

void SettingsEnforcer::RecordSettings(v1::SettingsEvent::Kind kind, const std::string& setting,
                                      const std::string& detail, v1::Priority priority) {
  events_.Record(
      SettingsEventOf(factory_, policy_->policy.version(), kind, setting, detail, priority));
}

}  // namespace ward::core
