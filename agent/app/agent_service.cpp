// SPDX-License-Identifier: Apache-2.0
#include "ward/app/agent_service.h"

#include <array>
#include <cstdint>
#include <cstdio>

#include "ward/common/log.h"
#include "ward/policy/data_inventory.h"
#include "ward/policy/summary.h"

namespace ward::app {
namespace {

std::string UserOf(const agent::ipc::Caller& caller) {
  return caller.user_name.empty() ? "uid " + caller.user_id : caller.user_name;
}

// On Linux user_id is the decimal uid, so the keys written by earlier versions still match.
std::string AupKey(std::string_view user_id, std::uint32_t version) {
  return "aup/" + std::string(user_id) + "/" + std::to_string(version);
}

}  // namespace

void NoticeBridge::Attach(agent::ipc::IpcServer* server) {
  std::scoped_lock lock(mu_);
  server_ = server;
}

void NoticeBridge::Notify(v1::Notice notice) {
  std::scoped_lock lock(mu_);
  if (fallback_ != nullptr) {
    fallback_->Notify(notice);
  }
  if (server_ != nullptr) {
    server_->Notify(std::move(notice));
  } else if (fallback_ == nullptr) {
    log::Debug("notice", {{"notice", notice.ShortDebugString()}});
  }
}

void NoticeBridge::NotifyUser(std::string user_id, v1::Notice notice) {
  std::scoped_lock lock(mu_);
  if (fallback_ != nullptr) {
    fallback_->Notify(notice);
  }
  if (server_ != nullptr) {
    server_->NotifyUser(std::move(user_id), std::move(notice));
  }
}

AgentService::AgentService(agent::store::EventStore* store, core::EventSink& events,
                           core::EventFactory& factory, NoticeBridge& notices, Random& random)
    : store_(store), events_(events), factory_(factory), notices_(notices), random_(random) {}

void AgentService::SetPolicy(std::shared_ptr<const core::ActivePolicy> policy, bool signed_policy) {
  std::scoped_lock lock(mu_);
  policy_ = std::move(policy);
  signed_policy_ = signed_policy;
}

void AgentService::SetDegraded(std::vector<std::string> degraded) {
  std::scoped_lock lock(mu_);
  degraded_ = std::move(degraded);
}

void AgentService::SetCollectorReachable(bool reachable) {
  std::scoped_lock lock(mu_);
  reachable_ = reachable;
}

void AgentService::SetUploadTrigger(std::function<void()> trigger) {
  std::scoped_lock lock(mu_);
  upload_trigger_ = std::move(trigger);
}

std::shared_ptr<const core::ActivePolicy> AgentService::CurrentPolicy() const {
  std::scoped_lock lock(mu_);
  return policy_;
}

void AgentService::OnConcernAcknowledged(std::string_view event_id) {
  if (store_ == nullptr) {
    return;
  }
  const std::string key = "concern/" + std::string(event_id);
  auto pending = store_->GetState(key);
  if (!pending.has_value()) {
    return;
  }
  const std::size_t space = pending->find(' ');
  if (space == std::string::npos) {
    (void)store_->DeleteState(key);
    return;
  }
  v1::Notice notice;
  notice.mutable_concern_received()->set_reference(pending->substr(space + 1));
  notices_.NotifyUser(pending->substr(0, space), std::move(notice));
  log::Info("concern received by the collector",
            {{"event_id", std::string(event_id)}, {"reference", pending->substr(space + 1)}});
  if (auto deleted = store_->DeleteState(key); !deleted.has_value()) {
    log::Warning("concern acknowledgement not forgotten", {{"error", deleted.error().ToString()}});
  }
}

void AddDegradations(const std::vector<std::string>& degraded, v1::DeviceStatus& device) {
  for (const auto& d : degraded) {
    auto* entry = device.add_degraded();
    const std::size_t colon = d.find(": ");
    entry->set_subsystem(d.substr(0, colon));
    entry->set_reason(colon == std::string::npos ? "" : d.substr(colon + 2));
  }
}

Result<v1::StatusResponse> AgentService::Status(const agent::ipc::Caller& caller) {
  v1::StatusResponse out;
  std::vector<std::string> degraded;
  bool reachable = false;
  bool signed_policy = false;
  std::shared_ptr<const core::ActivePolicy> policy;
  {
    std::scoped_lock lock(mu_);
    degraded = degraded_;
    reachable = reachable_;
    signed_policy = signed_policy_;
    policy = policy_;
  }
  auto* device = out.mutable_device();
  AddDegradations(degraded, *device);
  if (store_ != nullptr) {
    if (auto status = store_->GetStatus(); status.has_value()) {
      *device->mutable_store() = *std::move(status);
    }
  }
  if (policy == nullptr || !degraded.empty() || !signed_policy) {
    out.set_state(v1::StatusResponse::STATE_NEEDS_ATTENTION);
  } else {
    out.set_state(reachable ? v1::StatusResponse::STATE_PROTECTED
                            : v1::StatusResponse::STATE_OFFLINE);
  }
  if (policy != nullptr) {
    out.set_policy_version(policy->policy.version());
    out.set_mode(policy->policy.mode());
    out.set_policy_name(policy->policy.name());
    device->set_policy_version(policy->policy.version());
    device->set_mode(policy->policy.mode());
    const std::uint32_t aup = policy->policy.aup().version();
    out.set_aup_pending(aup > 0 && !AupAccepted(caller.user_id, aup));
  }
  return out;
}

Result<v1::PolicySummaryResponse> AgentService::PolicySummary(const agent::ipc::Caller&) {
  const auto policy = CurrentPolicy();
  if (policy == nullptr) {
    return UnavailableError("Ward hasn't received its policy yet. Please ask IT for help.");
  }
  v1::PolicySummaryResponse out;
  for (auto& line : policy::SummarizeForLearner(policy->policy)) {
    out.add_lines(std::move(line));
  }
  for (auto& record : policy::DescribeKeptData(policy->policy)) {
    out.add_data_inventory(record.what);
    auto* kept = out.add_kept();
    kept->set_what(std::move(record.what));
    kept->set_how_long(std::move(record.how_long));
    kept->set_who_sees(std::move(record.who_sees));
  }
  *out.mutable_contacts() = policy->policy.contacts();
  *out.mutable_aup() = policy->policy.aup();
  out.set_audience(policy->policy.audience());
  return out;
}

Result<v1::SubmitConcernResponse> AgentService::SubmitConcern(
    const agent::ipc::Caller& caller, const v1::SubmitConcernRequest& request) {
  WARD_RETURN_IF_ERROR(ValidateConcern(request));
  if (store_ == nullptr) {
    return UnavailableError(
        "Your report couldn't be saved on this laptop right now. Please tell a member of staff "
        "you trust, or try again in a few minutes.");
  }
  const auto policy = CurrentPolicy();
  v1::Event event =
      factory_.New(v1::PRIORITY_CRITICAL, policy != nullptr ? policy->policy.version() : 0);
  if (!request.anonymous()) {
    event.set_user(UserOf(caller));
  }
  auto* concern = event.mutable_concern();
  concern->set_reference(MakeConcernReference(random_));
  // No (or an unknown) category is never a reason to lose a report: it is "something else".
  concern->set_category(request.category() == v1::CONCERN_CATEGORY_UNSPECIFIED ||
                                !v1::ConcernCategory_IsValid(request.category())
                            ? v1::CONCERN_CATEGORY_OTHER
                            : request.category());
  concern->set_text(request.text());
  concern->set_anonymous(request.anonymous());
  concern->set_in_danger(request.in_danger());
  concern->set_screenshot_png(request.screenshot_png());
  // Who to tell when the collector has it; kept on this laptop only (not in the event).
  const std::string ack_key = "concern/" + event.id();
  (void)store_->PutState(ack_key, caller.user_id + " " + concern->reference());
  if (auto appended = store_->Append(event); !appended.has_value()) {
    if (appended.error().code() != ErrorCode::kResourceExhausted) {
      (void)store_->DeleteState(ack_key);
    }
    log::Error("concern not stored",
               {{"error", appended.error().ToString()}, {"reference", concern->reference()}});
    if (appended.error().code() == ErrorCode::kResourceExhausted) {
      return ResourceExhaustedError(
          "This laptop's storage is full, so your report is waiting to be saved. Please also "
          "tell a member of staff you trust.");
    }
    return UnavailableError(
        "Your report couldn't be saved on this laptop right now. Please tell a member of staff "
        "you trust, or try again in a few minutes.");
  }
  log::Info("concern stored", {{"event_id", event.id()}, {"reference", concern->reference()}});
  std::function<void()> trigger;
  {
    std::scoped_lock lock(mu_);
    trigger = upload_trigger_;
  }
  if (trigger) {
    trigger();
  }
  v1::SubmitConcernResponse out;
  out.set_reference(concern->reference());
  out.set_event_id(event.id());
  return out;
}

bool AgentService::AupAccepted(const std::string& user_id, std::uint32_t version) {
  {
    std::scoped_lock lock(mu_);
    if (accepted_.contains({user_id, version})) {
      return true;
    }
  }
  if (store_ == nullptr || !store_->GetState(AupKey(user_id, version)).has_value()) {
    return false;
  }
  std::scoped_lock lock(mu_);
  accepted_.emplace(user_id, version);
  return true;
}

ward::Status AgentService::AcceptAup(const agent::ipc::Caller& caller,
                                     const v1::AcceptAupRequest& request) {
  const auto policy = CurrentPolicy();
  if (policy == nullptr || policy->policy.aup().version() == 0) {
    return FailedPreconditionError("There is no agreement to accept right now.");
  }
  if (request.aup_version() != policy->policy.aup().version()) {
    return FailedPreconditionError(
        "The agreement has changed since you opened it. Please read the new version.");
  }
  if (AupAccepted(caller.user_id, request.aup_version())) {
    return OkStatus();  // accepted once per version: nothing more to record
  }
  if (store_ != nullptr) {
    if (auto put = store_->PutState(AupKey(caller.user_id, request.aup_version()), "1");
        !put.has_value()) {
      log::Error("AUP acceptance not stored", {{"error", put.error().ToString()}});
      return UnavailableError("Your answer couldn't be saved right now. Please try again later.");
    }
  }
  {
    std::scoped_lock lock(mu_);
    accepted_.emplace(caller.user_id, request.aup_version());
  }
  v1::Event event = factory_.New(v1::PRIORITY_NORMAL, policy->policy.version());
  event.set_user(UserOf(caller));
  event.mutable_aup()->set_aup_version(request.aup_version());
  event.mutable_aup()->set_policy_version(policy->policy.version());
  event.mutable_aup()->set_under_18_text(policy->policy.audience() == v1::AUDIENCE_UNDER_18);
  events_.Record(std::move(event));
  return OkStatus();
}

ward::Status AgentService::Subscribe(const agent::ipc::Caller&) { return OkStatus(); }

}  // namespace ward::app
