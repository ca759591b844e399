// SPDX-License-Identifier: Apache-2.0
#include "ward/core/exec_enforcer.h"

#include <filesystem>

#include "ward/common/log.h"

namespace ward::core {
namespace {

using platform::ExecVerdict;
using policy::AppVerdict;

constexpr auto kIdleWait = std::chrono::hours(1);

constexpr std::string_view kLoaderReason =
    "a program was started through the dynamic loader, which would skip its own check";

}  // namespace

ExecEnforcer::ExecEnforcer(platform::ExecControl& control, EventSink& events, NoticeSink& notices,
                           FailurePolicy& failures, EventFactory& factory,
                           PackageProvenance* packages)
    : control_(control),
      events_(events),
      notices_(notices),
      failures_(failures),
      factory_(factory),
      packages_(packages) {}

ExecEnforcer::~ExecEnforcer() { Stop(); }

void ExecEnforcer::Start(std::shared_ptr<const ActivePolicy> policy) {
  if (packages_ != nullptr) {
    // Programs the kernel answers raise no request, so new records must wake the loop.
    packages_->OnNewIndex([this] { control_.Interrupt(); });
  }
  thread_.Start(std::move(policy), [this] { Loop(); });
}

void ExecEnforcer::SetPolicy(std::shared_ptr<const ActivePolicy> policy) {
  thread_.Post(std::move(policy));
}

void ExecEnforcer::Stop() {
  if (packages_ != nullptr) {
    packages_->OnNewIndex({});
  }
  if (!thread_.Stop()) {
    return;
  }
  // Whatever the loop had not answered yet gets the shutdown verdict now.
  control_.Shutdown();
  ReportPlatformFailures();
}

ExecEnforcerStats ExecEnforcer::Stats() const {
  std::scoped_lock lock(mutex_);
  return stats_;
}

void ExecEnforcer::Loop() {
  while (!thread_.stopping()) {
    if (auto changed = thread_.TakePolicy(); changed != nullptr) {
      policy_ = std::move(changed);
      NewGeneration();  // cached verdicts belong to the old policy; cached hashes stay valid
    }
    CheckPackageRecords();
    auto next = control_.Next(kIdleWait);
    if (!next.has_value()) {
      // The platform answers what it holds (deadline thread); report and stop judging.
      failures_.Handle(FailureReason::kExecPlatformUnavailable, next.error().ToString());
      return;
    }
    if (next->has_value()) {
      CheckPackageRecords();
      if (policy_ == nullptr) {
        (void)control_.Respond((*next)->id, ExecVerdict::kAllow);
      } else {
        Decide(**next);
      }
    }
    ReportPlatformFailures();
  }
}

void ExecEnforcer::NewGeneration() {
  ++generation_;
  // The kernel's remembered allowances came from the old verdicts.
  control_.ForgetRemembered();
}

void ExecEnforcer::CheckPackageRecords() {
  if (packages_ == nullptr || packages_->generation() == package_generation_) {
    return;
  }
  // New package records: verdicts that read the old ones are stale (hashes stay valid).
  package_generation_ = packages_->generation();
  if (policy_ != nullptr && policy_->apps->HasPackageRules()) {
    NewGeneration();
  }
}

void ExecEnforcer::ReportPlatformFailures() {
  const platform::ExecControlStats now = control_.Stats();
  if (now.timed_out > reported_.timed_out) {
    failures_.Handle(FailureReason::kExecDecisionTimeout, "exec answered by the deadline",
                     now.timed_out - reported_.timed_out);
  }
  if (now.overloaded > reported_.overloaded) {
    failures_.Handle(FailureReason::kExecOverload, "exec answered at once: too many pending",
                     now.overloaded - reported_.overloaded);
  }
  reported_ = now;
}

void ExecEnforcer::Decide(platform::ExecRequest& request) {
  const bool enforce = policy_->enforce();
  if (auto hit = cache_.find(request.file);
      hit != cache_.end() && hit->second.generation == generation_) {
    (void)control_.Respond(request.id, hit->second.verdict);
    std::scoped_lock lock(mutex_);
    ++stats_.decisions;
    ++stats_.cache_hits;
    if (hit->second.verdict == ExecVerdict::kDeny) {
      ++stats_.blocked;
    }
    return;
  }
  if (cache_.size() >= kCacheCapacity) {
    cache_.clear();
  }
  // Not cached: the path (path rules, the record) and the requester's uid are needed now.
  (void)control_.Describe(request);
  CacheEntry& entry = cache_[request.file];
  policy::ExecRequest query;
  query.path = request.path;
  query.size = static_cast<std::uint64_t>(request.file.size);
  query.sha256 = [&]() -> Result<std::string> {
    if (entry.sha256.has_value()) {
      return *entry.sha256;
    }
    auto hash = control_.Sha256(request.id);
    if (hash.has_value()) {
      entry.sha256 = *hash;
      std::scoped_lock lock(mutex_);
      ++stats_.hashes;
    }
    return hash;
  };
  Result<PackageProvenance::Answer> provenance = PackageProvenance::Answer{};
  if (packages_ != nullptr && policy_->apps->HasPackageRules()) {
    provenance = packages_->PackageOf(request, *policy_->apps, control_, policy_->policy.version());
  }
  query.package = provenance.has_value() ? std::string_view(provenance->package) : "";
  auto decision = provenance.has_value()
                      ? policy_->apps->Evaluate(query)
                      : Result<policy::AppDecision>(std::unexpected(provenance.error()));

  v1::ExecEvent record;
  record.set_path(request.path);
  record.set_uid(request.uid);
  record.set_pid(request.pid);
  record.set_package(std::string(query.package));
  AppVerdict verdict = AppVerdict::kAllow;
  std::string message;
  std::string url;
  bool cacheable = !provenance.has_value() || provenance->cacheable;
  if (!decision.has_value()) {
    const FailureAction action =
        failures_.Handle(FailureReason::kExecHashFailed, decision.error().ToString());
    const bool refuse = action == FailureAction::kFailClosed;
    verdict =
        !refuse ? AppVerdict::kAllow : (enforce ? AppVerdict::kBlock : AppVerdict::kWouldBlock);
    record.set_reason("could not judge: " + decision.error().message());
    cacheable = false;
  } else {
    verdict = decision->verdict;
    record.set_rule_id(std::string(decision->rule_id));
    record.set_reason(decision->StaffReason());
    message = std::string(decision->message);
    url = std::string(decision->url);
    if (request.direct_loader) {
      const bool loader_named = decision->verdict == AppVerdict::kAllow &&
                                (decision->matched_by == policy::AppMatch::kSha256 ||
                                 decision->matched_by == policy::AppMatch::kPath);
      if (!loader_named) {
        verdict = enforce ? AppVerdict::kBlock : AppVerdict::kWouldBlock;
        record.set_reason(std::string(kLoaderReason));
        message = policy_->policy.apps().default_message();
      }
    }
  }
  if (entry.sha256.has_value()) {
    record.set_sha256(*entry.sha256);
  }
  const ExecVerdict answer =
      verdict == AppVerdict::kBlock ? ExecVerdict::kDeny : ExecVerdict::kAllow;
  if (verdict == AppVerdict::kAllow && cacheable && !request.direct_loader) {
    // The kernel may answer this file's next runs itself (see ExecControl::AllowAndRemember);
    // a new policy or new package records make this loop call ForgetRemembered() first.
    (void)control_.AllowAndRemember(request.id);
  } else {
    (void)control_.Respond(request.id, answer);
  }
  if (cacheable) {
    entry.generation = generation_;
    entry.verdict = answer;
  } else {
    cache_.erase(request.file);
  }
  {
    std::scoped_lock lock(mutex_);
    ++stats_.decisions;
    stats_.blocked += verdict == AppVerdict::kBlock ? 1 : 0;
    stats_.would_block += verdict == AppVerdict::kWouldBlock ? 1 : 0;
  }

  const v1::Priority priority = verdict == AppVerdict::kBlock        ? v1::PRIORITY_HIGH
                                : verdict == AppVerdict::kWouldBlock ? v1::PRIORITY_NORMAL
                                                                     : v1::PRIORITY_LOW;
  record.set_decision(verdict == AppVerdict::kAllow   ? v1::DECISION_ALLOW
                      : verdict == AppVerdict::kBlock ? v1::DECISION_BLOCK
                                                      : v1::DECISION_WOULD_BLOCK);
  v1::Event event = factory_.New(priority, policy_->policy.version());
  *event.mutable_exec() = std::move(record);
  events_.Record(std::move(event));
  if (verdict != AppVerdict::kAllow) {
    v1::Notice notice;
    auto* blocked = notice.mutable_program_blocked();
    blocked->set_program(std::filesystem::path(request.path).filename().string());
    blocked->set_message(message.empty() ? policy_->policy.apps().default_message() : message);
    blocked->set_url(url);
    blocked->set_monitor_only(verdict == AppVerdict::kWouldBlock);
    notices_.Notify(std::move(notice));
  }
}

}  // namespace ward::core
