// SPDX-License-Identifier: Apache-2.0
#include "ward/core/declarative_enforcer.h"

#include "ward/common/log.h"

namespace ward::core {
namespace {

class UsbInstall final : public DeclarativeTarget {
 public:
  explicit UsbInstall(platform::UsbInstallPolicy& control) : control_(control) {}
  std::string Name() const override { return "USB device installation policy"; }
  FailureReason ApplyFailure() const override { return FailureReason::kUsbApplyFailed; }

  Result<AppliedPlan> Apply(const ActivePolicy& policy) override {
    // MONITOR mode compiles to an empty plan, which puts back what was there before Ward.
    platform::UsbRegistryPlan plan = platform::CompileUsbRegistryPlan(policy.policy);
    WARD_RETURN_IF_ERROR(control_.Apply(plan));
    AppliedPlan applied;
    for (const auto& f : plan.fallbacks) {
      applied.notes.push_back("usb " + f.rule + " is decided by the agent: " + f.reason);
    }
    for (const auto& note : plan.notes) {
      applied.notes.push_back("usb: " + note);
    }
    plan_ = std::move(plan);
    return applied;
  }
  Status Reapply() override { return control_.Apply(plan_); }
  Result<std::vector<DriftedPlace>> Drifted() override {
    WARD_ASSIGN_OR_RETURN(const auto drifted, control_.Drifted(plan_));
    std::vector<DriftedPlace> places;
    for (const auto& d : drifted) {
      places.push_back({.setting = "", .where = d.where + " (found " + d.found + ")"});
    }
    return places;
  }
  Result<bool> WaitForChange(std::chrono::milliseconds max_wait) override {
    return control_.WaitForChange(max_wait);
  }
  void Interrupt() override { control_.Interrupt(); }

 private:
  platform::UsbInstallPolicy& control_;
  platform::UsbRegistryPlan plan_;
};

class SettingsLockdownControl final : public DeclarativeTarget {
 public:
  explicit SettingsLockdownControl(platform::SettingsLockdown& control) : control_(control) {}
  std::string Name() const override { return "settings lock-down"; }
  FailureReason ApplyFailure() const override { return FailureReason::kSettingsApplyFailed; }

  Result<AppliedPlan> Apply(const ActivePolicy& policy) override {
    AppliedPlan applied;
    if (!policy.enforce()) {
      // MONITOR: record only. What an earlier ENFORCE policy wrote is put back.
      plan_ = {};
      WARD_RETURN_IF_ERROR(control_.Restore());
      applied.notes.emplace_back("settings: MONITOR mode: nothing is written");
      return applied;
    }
    WARD_ASSIGN_OR_RETURN(policy::SettingsPlan plan,
                          policy::CompileSettingsPlan(policy.policy.settings()));
    WARD_ASSIGN_OR_RETURN(const platform::SettingsApplyReport report, control_.Apply(plan));
    for (const auto& n : report.not_enforced) {
      applied.notes.push_back("setting " + n.setting + " is not enforced: " + n.reason);
    }
    for (const auto& note : report.notes) {
      applied.notes.push_back("settings: " + note);
    }
    for (const auto& s : plan.settings) {
      applied.settings.emplace_back(s.name, s.locked ? "locked" : "default");
    }
    plan_ = std::move(plan);
    return applied;
  }
  Status Reapply() override {
    WARD_RETURN_IF_ERROR(control_.Apply(plan_));
    return OkStatus();
  }
  Result<std::vector<DriftedPlace>> Drifted() override {
    if (plan_.settings.empty()) {
      return std::vector<DriftedPlace>{};
    }
    WARD_ASSIGN_OR_RETURN(const auto drifted, control_.Drifted(plan_));
    std::vector<DriftedPlace> places;
    for (const auto& d : drifted) {
      places.push_back({.setting = d.setting, .where = d.where});
    }
    return places;
  }
  Result<bool> WaitForChange(std::chrono::milliseconds max_wait) override {
    return control_.WaitForChange(max_wait);
  }
  void Interrupt() override { control_.Interrupt(); }

 private:
  platform::SettingsLockdown& control_;
  policy::SettingsPlan plan_;
};

}  // namespace

std::unique_ptr<DeclarativeTarget> UsbInstallTarget(platform::UsbInstallPolicy& control) {
  return std::make_unique<UsbInstall>(control);
}

std::unique_ptr<DeclarativeTarget> SettingsLockdownTarget(platform::SettingsLockdown& control) {
  return std::make_unique<SettingsLockdownControl>(control);
}

DeclarativeEnforcer::DeclarativeEnforcer(DeclarativeTarget& target, EventSink& events,
                                         FailurePolicy& failures, EventFactory& factory,
                                         std::chrono::milliseconds verify_every)
    : target_(target),
      events_(events),
      failures_(failures),
      factory_(factory),
      verify_every_(verify_every) {}

DeclarativeEnforcer::~DeclarativeEnforcer() { Stop(); }

void DeclarativeEnforcer::Start(std::shared_ptr<const ActivePolicy> policy) {
  thread_.Start(std::move(policy), [this] { Loop(); });
}

void DeclarativeEnforcer::SetPolicy(std::shared_ptr<const ActivePolicy> policy) {
  thread_.Post(std::move(policy));
}

void DeclarativeEnforcer::Stop() { (void)thread_.Stop(); }

DeclarativeEnforcerStats DeclarativeEnforcer::Stats() const {
  std::scoped_lock lock(mutex_);
  return stats_;
}

void DeclarativeEnforcer::Loop() {
  while (!thread_.stopping()) {
    if (auto changed = thread_.TakePolicy(); changed != nullptr) {
      policy_ = std::move(changed);
      ApplyPolicy();
    }
    auto change = target_.WaitForChange(verify_every_);
    if (!change.has_value()) {
      failures_.Handle(target_.ApplyFailure(), change.error().ToString());
      // Cannot watch: check on the timer only, sooner on SetPolicy()/Stop().
      thread_.Pause(verify_every_);
    }
    if (thread_.stopping()) {
      break;
    }
    // A change, or the timer: read the plan back either way (a missed notification must not
    // leave drift standing).
    if (applied_) {
      CheckDrift();
    } else if (policy_ != nullptr) {
      ApplyPolicy();  // the last apply failed: retry
    }
  }
}

void DeclarativeEnforcer::ApplyPolicy() {
  auto applied = target_.Apply(*policy_);
  const bool was_failing = !applied_ && attempted_;
  applied_ = applied.has_value();
  attempted_ = true;
  if (!applied.has_value()) {
    failures_.Handle(target_.ApplyFailure(), target_.Name() + ": " + applied.error().ToString());
    // Recorded once per run of failures: the retries (every wake-up) are only counted.
    if (!was_failing && target_.ApplyFailure() == FailureReason::kSettingsApplyFailed) {
      RecordSettings(v1::SettingsEvent::KIND_APPLY_FAILED, "", applied.error().ToString(),
                     v1::PRIORITY_HIGH);
    }
    return;
  }
  {
    std::scoped_lock lock(mutex_);
    ++stats_.applied;
  }
  for (const auto& note : applied->notes) {
    log::Info("policy applied", {{"what", target_.Name()}, {"note", note}});
  }
  for (const auto& [name, state] : applied->settings) {
    RecordSettings(v1::SettingsEvent::KIND_APPLIED, name, state, v1::PRIORITY_NORMAL);
  }
}

void DeclarativeEnforcer::CheckDrift() {
  auto drifted = target_.Drifted();
  {
    std::scoped_lock lock(mutex_);
    ++stats_.checks;
  }
  if (!drifted.has_value()) {
    failures_.Handle(target_.ApplyFailure(), target_.Name() + ": " + drifted.error().ToString());
    return;
  }
  if (drifted->empty()) {
    return;
  }
  const Status reapplied = target_.Reapply();
  if (!reapplied.has_value()) {
    failures_.Handle(target_.ApplyFailure(), target_.Name() + ": " + reapplied.error().ToString());
  }
  std::string list;
  for (const auto& place : *drifted) {
    if (!place.setting.empty()) {
      RecordSettings(
          v1::SettingsEvent::KIND_DRIFT_REVERTED, place.setting,
          reapplied.has_value() ? "changed outside Ward; put back" : "could not put back",
          v1::PRIORITY_HIGH);
    }
    list += (list.empty() ? "" : ", ") + place.where;
  }
  {
    std::scoped_lock lock(mutex_);
    stats_.reverted += drifted->size();
  }
  events_.Record(TamperEventOf(factory_, policy_->policy.version(),
                               target_.Name() + " changed outside Ward" +
                                   (reapplied.has_value() ? " (put back): " : ": ") + list,
                               drifted->size()));
}

void DeclarativeEnforcer::RecordSettings(v1::SettingsEvent::Kind kind, const std::string& setting,
                                         const std::string& detail, v1::Priority priority) {
  events_.Record(
      SettingsEventOf(factory_, policy_->policy.version(), kind, setting, detail, priority));
}

}  // namespace ward::core
