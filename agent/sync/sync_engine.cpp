// SPDX-License-Identifier: Apache-2.0
#include "ward/agent/sync/sync_engine.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_set>
#include <vector>

#include "ward/agent/sync/backoff.h"
#include "ward/common/log.h"
#include "ward/common/uuid.h"

namespace ward::agent::sync {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

struct Credential {
  std::string device_id;
  std::string secret;
  std::string group;
  std::string Bearer() const { return device_id + "." + secret; }
};

// Outcome of one round of a loop.
enum class Round : std::uint8_t { kMore, kIdle, kFailed, kUnauthorized };

// The collector's reason from an ErrorBody, or the status alone.
std::string DescribeReply(const CollectorReply& reply) {
  v1::ErrorBody body;
  std::string text = "the collector answered " + std::to_string(reply.status);
  if (body.ParseFromString(reply.body) && !body.message().empty()) {
    text += ": " + body.message();
  }
  return text;
}

}  // namespace

class SyncEngine::Impl {
 public:
  Impl(SyncOptions options, policy::PublicKey policy_key, CollectorTransport& transport,
       store::EventStore& store, PolicySink& sink, StatusSource* status)
      : options_(std::move(options)),
        policy_key_(std::move(policy_key)),
        clock_(options_.clock != nullptr ? *options_.clock : SystemClock()),
        random_(options_.random != nullptr ? *options_.random : SystemRandom()),
        transport_(transport),
        store_(store),
        sink_(sink),
        status_(status),
        ids_(clock_, random_) {}

  ~Impl() { Stop(); }

  void Start() {
    std::scoped_lock lock(mu_);
    if (started_) {
      return;
    }
    started_ = true;
    // Every accepted event wakes the upload loop, so it needs no timer while the store is empty.
    store_.SetOnAppended([this](v1::Priority priority) { NotifyAppended(priority); });
    upload_thread_ = std::thread([this] { UploadLoop(); });
    policy_thread_ = std::thread([this] { PolicyLoop(); });
  }

  void Stop() {
    {
      std::scoped_lock lock(mu_);
      if (stopping_) {
        return;
      }
      stopping_ = true;
    }
    store_.SetOnAppended({});
    cv_.notify_all();
    transport_.Cancel();
    if (upload_thread_.joinable()) {
      upload_thread_.join();
    }
    if (policy_thread_.joinable()) {
      policy_thread_.join();
    }
  }

  void NotifyAppended(v1::Priority priority) {
    {
      std::scoped_lock lock(mu_);
      if (priority == v1::PRIORITY_CRITICAL) {
        critical_pending_ = true;
      } else if (!appended_pending_) {
        appended_pending_ = true;
      } else {
        return;  // the loop knows already: no wake-up per event
      }
    }
    cv_.notify_all();
  }

  SyncSnapshot Snapshot() const {
    std::scoped_lock lock(mu_);
    return snapshot_;
  }

 private:
  // ---- waiting ------------------------------------------------------------------------------

  // Sleeps up to `delay`; a CRITICAL append ends the wait early when `wake_on_critical`.
  // Returns false when the engine is stopping.
  bool WaitFor(milliseconds delay, bool wake_on_critical) {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, delay, [&] { return stopping_ || (wake_on_critical && critical_pending_); });
    if (wake_on_critical) {
      critical_pending_ = false;
    }
    return !stopping_;
  }

  // With nothing to upload: sleeps until an event is appended or `limit` passes, with no timer
  // when `limit` is max(). Returns true when a telemetry event (not CRITICAL) ended the wait.
  bool WaitForAppend(milliseconds limit) {
    std::unique_lock lock(mu_);
    const auto woken = [&] { return stopping_ || critical_pending_ || appended_pending_; };
    if (limit == milliseconds::max()) {
      cv_.wait(lock, woken);
    } else {
      cv_.wait_for(lock, limit, woken);
    }
    const bool telemetry = appended_pending_ && !critical_pending_;
    appended_pending_ = false;
    critical_pending_ = false;
    return telemetry && !stopping_;
  }

  bool Stopping() const {
    std::scoped_lock lock(mu_);
    return stopping_;
  }

  void RecordError(const Error& error) {
    {
      std::scoped_lock lock(mu_);
      if (stopping_) {
        return;  // calls cut short by Stop() are not failures
      }
      if (snapshot_.last_error == error.ToString()) {
        return;  // already logged: a laptop offline for weeks logs the failure once
      }
      snapshot_.last_error = error.ToString();
      snapshot_.last_error_code = error.code();
    }
    ReportReachable(false);
    log::Warning("sync: collector call failed", {{"error", error.ToString()}});
  }

  void RecordSuccess() {
    {
      std::scoped_lock lock(mu_);
      if (!snapshot_.last_error.empty()) {
        log::Info("sync: collector reachable again");
      }
      snapshot_.last_error.clear();
    }
    ReportReachable(true);
  }

  // Tells options_.on_reachable about a change (outside mu_: the callback may take its own).
  void ReportReachable(bool reachable) {
    if (!options_.on_reachable) {
      return;
    }
    const int now = reachable ? 1 : 0;
    if (reachable_.exchange(now) != now) {
      options_.on_reachable(reachable);
    }
  }

  milliseconds RetryAfter(const CollectorReply& reply) {
    if (!reply.retry_after.has_value()) {
      return milliseconds(0);
    }
    return std::min<milliseconds>(*reply.retry_after, options_.max_retry_after);
  }

  // ---- enrolment ----------------------------------------------------------------------------

  Result<Credential> EnsureEnrolled() {
    std::scoped_lock enrol_lock(enrol_mu_);
    if (credential_.has_value()) {
      return *credential_;
    }
    if (enrol_refusal_.has_value() && clock_.SteadyNow() < enrol_not_before_) {
      return std::unexpected(*enrol_refusal_);  // no request until the refusal's wait is over
    }
    auto saved = store_.GetState(kCredentialStateKey);
    if (saved.has_value()) {
      v1::EnrolResponse response;
      if (response.ParseFromString(*saved) && !response.device_id().empty()) {
        SetCredential(response, /*fresh=*/false);
        return *credential_;
      }
      log::Warning("sync: the saved device credential is unreadable; enrolling again");
    } else if (saved.error().code() != ErrorCode::kNotFound) {
      return std::unexpected(saved.error().WithContext("reading the device credential"));
    }
    if (options_.enrolment_secret.empty()) {
      // The secret is deleted once a laptop is enrolled; a lost or revoked credential needs a
      // new one from IT.
      return MakeError(ErrorCode::kFailedPrecondition,
                       "this device is not enrolled and has no enrolment secret (IT: see "
                       "`ward-agent enrol --help`)");
    }
    v1::EnrolRequest request;
    request.set_enrolment_secret(options_.enrolment_secret);
    request.set_hostname(options_.hostname);
    request.set_os(options_.os);
    request.set_agent_version(options_.agent_version);
    request.set_machine_hash(options_.machine_hash);
    if (previous_.has_value()) {
      // Proof that this is the laptop enrolled before (docs/adr/0012-device-trust.md).
      request.set_previous_device_id(previous_->device_id);
      request.set_previous_credential(previous_->secret);
    }
    {
      std::scoped_lock lock(mu_);
      ++snapshot_.enrol_attempts;
    }
    WARD_ASSIGN_OR_RETURN(
        CollectorReply reply,
        transport_.Post("/v1/enrol", request.SerializeAsString(), "", options_.request_timeout));
    if (reply.status == 401 || reply.status == 403) {
      // Asking again at once gets the same answer: wait, and say it once (RecordError).
      enrol_refusal_ = Error(
          reply.status == 401 ? ErrorCode::kUnauthenticated : ErrorCode::kPermissionDenied,
          "the collector refused to enrol this laptop (" + DescribeReply(reply) +
              "); asking again in " +
              std::to_string(
                  std::chrono::duration_cast<std::chrono::minutes>(options_.enrol_refused_retry)
                      .count()) +
              " minutes");
      enrol_not_before_ = clock_.SteadyNow() + options_.enrol_refused_retry;
      return std::unexpected(*enrol_refusal_);
    }
    if (reply.status == 429) {
      enrol_refusal_ = Error(ErrorCode::kResourceExhausted,
                             "the collector is enrolling many laptops; this one waits its turn");
      enrol_not_before_ = clock_.SteadyNow() + std::max(RetryAfter(reply), milliseconds(1000));
      return std::unexpected(*enrol_refusal_);
    }
    if (reply.status != 200) {
      return MakeError(ErrorCode::kUnavailable, "enrolling: " + DescribeReply(reply));
    }
    v1::EnrolResponse response;
    if (!response.ParseFromString(reply.body) || response.device_id().empty() ||
        response.credential().empty()) {
      return MakeError(ErrorCode::kUnavailable,
                       "enrolling: the collector's answer is not an EnrolResponse");
    }
    WARD_RETURN_IF_ERROR(store_.PutState(kCredentialStateKey, response.SerializeAsString()));
    enrol_refusal_.reset();
    previous_.reset();
    SetCredential(response, /*fresh=*/true);
    log::Info("sync: enrolled", {{"device_id", response.device_id()}, {"group", response.group()}});
    return *credential_;
  }

  // enrol_mu_ held.
  void SetCredential(const v1::EnrolResponse& response, bool fresh) {
    credential_ = Credential{response.device_id(), response.credential(), response.group()};
    std::scoped_lock lock(mu_);
    snapshot_.enrolled = true;
    snapshot_.device_id = response.device_id();
    snapshot_.group = response.group();
    if (fresh) {
      ++snapshot_.enrolments;
    }
  }

  // After a 401: forget the credential (unless another thread already replaced it).
  void ForgetCredential(const Credential& refused) {
    std::scoped_lock enrol_lock(enrol_mu_);
    if (!credential_.has_value() || credential_->Bearer() != refused.Bearer()) {
      return;
    }
    log::Warning("sync: the collector no longer accepts this device's credential; enrolling again",
                 {{"device_id", refused.device_id}});
    previous_ = credential_;  // sent with the next enrolment as proof, should it still be good
    credential_.reset();
    if (auto s = store_.DeleteState(kCredentialStateKey); !s) {
      log::Warning("sync: cannot delete the old credential", {{"error", s.error().ToString()}});
    }
    std::scoped_lock lock(mu_);
    snapshot_.enrolled = false;
  }

  // ---- upload -------------------------------------------------------------------------------

  void UploadLoop() {
    Backoff backoff(options_.backoff_base, options_.backoff_cap, random_);
    auto next_status = clock_.SteadyNow();
    while (!Stopping()) {
      milliseconds retry_after(0);
      Round round = Round::kFailed;
      auto credential = EnsureEnrolled();
      if (!credential.has_value()) {
        RecordError(credential.error());
      } else {
        // An erasure carried out is confirmed with the next call, not after status_interval.
        if (clock_.SteadyNow() >= next_status || erasures_to_confirm_) {
          if (SendStatus(*credential)) {
            next_status = clock_.SteadyNow() + options_.status_interval;
          } else {
            next_status =
                clock_.SteadyNow() + std::min<milliseconds>(options_.status_interval, seconds(60));
            erasures_to_confirm_ = false;  // confirmed with the status retry, not in a loop
          }
        }
        round = UploadOnce(*credential, retry_after);
      }
      switch (round) {
        case Round::kMore:
          backoff.Reset();
          continue;
        case Round::kIdle: {
          backoff.Reset();
          // The store is empty: no timer but the status report's. A CRITICAL event is uploaded
          // at once; telemetry is gathered for upload_interval first, so a burst is one request.
          const auto until_status =
              erasures_to_confirm_
                  ? milliseconds(0)
                  : std::max(milliseconds(0), std::chrono::duration_cast<milliseconds>(
                                                  next_status - clock_.SteadyNow()));
          if (WaitForAppend(until_status)) {
            WaitFor(options_.upload_interval, true);
          }
          continue;
        }
        case Round::kUnauthorized:
          ForgetCredential(*credential);
          if (backoff.failures() == 0) {
            backoff.NextDelay();  // re-enrol at once, but back off if 401s repeat
            continue;
          }
          [[fallthrough]];
        case Round::kFailed: {
          milliseconds delay = backoff.NextDelay(
              retry_after.count() > 0
                  ? std::optional<seconds>(std::chrono::duration_cast<seconds>(retry_after))
                  : std::nullopt);
          if (retry_after.count() == 0 && CriticalWaiting()) {
            delay = std::min(delay, options_.critical_retry_cap);
          }
          {
            std::scoped_lock lock(mu_);
            snapshot_.last_upload_delay = delay;
          }
          // A concern ends a network backoff early, never a collector's Retry-After.
          WaitFor(delay, retry_after.count() == 0);
          continue;
        }
      }
    }
  }

  Round UploadOnce(const Credential& credential, milliseconds& retry_after) {
    {
      std::scoped_lock lock(mu_);
      ++snapshot_.store_leases;
    }
    auto lease = store_.Lease(options_.batch_max_events, options_.batch_max_bytes);
    if (!lease.has_value()) {
      RecordError(lease.error().WithContext("leasing events for upload"));
      return Round::kFailed;
    }
    if (lease->events.empty()) {
      return Round::kIdle;
    }
    v1::EventBatch batch;
    batch.mutable_events()->Reserve(static_cast<int>(lease->events.size()));
    for (const v1::Event& event : lease->events) {
      *batch.add_events() = event;
    }
    auto reply = transport_.Post("/v1/events", batch.SerializeAsString(), credential.Bearer(),
                                 options_.request_timeout);
    if (!reply.has_value()) {
      store_.Release(*lease);
      CountUploadFailure();
      RecordError(reply.error());
      return Round::kFailed;
    }
    if (reply->status != 200) {
      store_.Release(*lease);
      CountUploadFailure();
      if (reply->status == 401) {
        return Round::kUnauthorized;
      }
      if (reply->status == 429 || reply->status == 503) {
        retry_after = RetryAfter(*reply);
        std::scoped_lock lock(mu_);
        snapshot_.rate_limited += reply->status == 429 ? 1u : 0u;
        snapshot_.last_retry_after = std::chrono::duration_cast<seconds>(retry_after);
        if (reply->status == 429) {
          return Round::kFailed;  // flow control, not a failure worth a log line
        }
      }
      RecordError(Error(ErrorCode::kUnavailable, "uploading events: " + DescribeReply(*reply)));
      return Round::kFailed;
    }
    v1::EventBatchAck ack;
    if (!ack.ParseFromString(reply->body)) {
      store_.Release(*lease);
      CountUploadFailure();
      RecordError(Error(ErrorCode::kUnavailable,
                        "uploading events: the collector's answer is not an EventBatchAck"));
      return Round::kFailed;
    }
    std::vector<std::string> done(ack.acked_ids().begin(), ack.acked_ids().end());
    for (const v1::RejectedEvent& rejected : ack.rejected()) {
      log::Warning("sync: the collector refused an event; it is deleted",
                   {{"id", rejected.id()}, {"reason", rejected.reason()}});
      done.push_back(rejected.id());
    }
    Status deleted = store_.AckIds(*lease, done);
    store_.Release(*lease);  // anything the collector did not mention is sent again
    if (!deleted) {
      RecordError(deleted.error().WithContext("deleting uploaded events"));
      return Round::kFailed;
    }
    RecordSuccess();
    ApplyErasures(ack.erase());
    if (options_.on_acked && ack.acked_ids_size() > 0) {
      options_.on_acked(std::vector<std::string>(ack.acked_ids().begin(), ack.acked_ids().end()));
    }
    {
      std::scoped_lock lock(mu_);
      snapshot_.events_acked += static_cast<std::uint64_t>(ack.acked_ids_size());
      snapshot_.events_rejected += static_cast<std::uint64_t>(ack.rejected_size());
    }
    if (done.empty()) {
      // An answer that acknowledges nothing would make us send the same batch forever.
      RecordError(Error(ErrorCode::kUnavailable,
                        "uploading events: the collector acknowledged none of them"));
      return Round::kFailed;
    }
    return Round::kMore;
  }

  // Whether the store holds CRITICAL events not yet acknowledged by the collector.
  bool CriticalWaiting() {
    auto status = store_.GetStatus();
    if (!status.has_value()) {
      return true;  // cannot tell: retrying soon costs little, losing time on a concern does not
    }
    const auto& counts = status->events_by_priority();
    const auto critical = counts.find("CRITICAL");
    return critical != counts.end() && critical->second > 0;
  }

  void CountUploadFailure() {
    std::scoped_lock lock(mu_);
    ++snapshot_.upload_failures;
  }

  bool SendStatus(const Credential& credential) {
    v1::DeviceStatus status;
    if (status_ != nullptr) {
      status = status_->CurrentStatus();
    }
    if (status.agent_version().empty()) {
      status.set_agent_version(options_.agent_version);
    }
    status.set_policy_version(sink_.CurrentPolicyVersion());
    AddErasuresToConfirm(status);
    if (auto store_status = store_.GetStatus(); store_status.has_value()) {
      *status.mutable_store() = *store_status;
    }
    const auto now =
        std::chrono::duration_cast<std::chrono::nanoseconds>(clock_.Now().time_since_epoch());
    status.mutable_device_time()->set_seconds(std::chrono::duration_cast<seconds>(now).count());
    status.mutable_device_time()->set_nanos(static_cast<std::int32_t>(now.count() % 1'000'000'000));
    auto reply = transport_.Post("/v1/status", status.SerializeAsString(), credential.Bearer(),
                                 options_.request_timeout);
    if (!reply.has_value()) {
      RecordError(reply.error());
      return false;
    }
    if (reply->status != 200) {
      if (reply->status == 401) {
        ForgetCredential(credential);
      }
      RecordError(Error(ErrorCode::kUnavailable, "sending status: " + DescribeReply(*reply)));
      return false;
    }
    MarkErasuresConfirmed(status.erased_ids());
    v1::DeviceStatusAck ack;
    if (ack.ParseFromString(reply->body)) {
      ApplyErasures(ack.erase());
    } else {
      log::Warning("sync: the collector's answer to the status is not a DeviceStatusAck");
    }
    std::scoped_lock lock(mu_);
    ++snapshot_.statuses_sent;
    return true;
  }

  // ---- erasure (docs/sync.md, "Erasure") ----------------------------------------------------

  // Adds the ids of erase instructions carried out and not yet confirmed to `status`.
  void AddErasuresToConfirm(v1::DeviceStatus& status) {
    auto done = store_.ListState(store::kErasureStatePrefix);
    if (!done.has_value()) {
      log::Warning("sync: cannot read the erasures to confirm",
                   {{"error", done.error().ToString()}});
      return;
    }
    for (const auto& [key, value] : *done) {
      if (value == store::kErasureApplied) {
        status.add_erased_ids(key.substr(store::kErasureStatePrefix.size()));
      }
    }
  }

  // The collector acknowledged a status naming these ids: it has the confirmations. The ids
  // stay in the state table, so an instruction sent again is not carried out twice.
  void MarkErasuresConfirmed(const google::protobuf::RepeatedPtrField<std::string>& ids) {
    for (const std::string& id : ids) {
      const std::string key = std::string(store::kErasureStatePrefix) + id;
      if (auto s = store_.PutState(key, store::kErasureConfirmed); !s) {
        log::Warning("sync: cannot record an erasure as confirmed",
                     {{"id", id}, {"error", s.error().ToString()}});
        continue;
      }
      std::scoped_lock lock(mu_);
      ++snapshot_.erasures_confirmed;
    }
    if (!ids.empty()) {
      erasures_to_confirm_ = false;
    }
  }

  // Carries out each instruction once (the store remembers the ids).
  void ApplyErasures(const google::protobuf::RepeatedPtrField<v1::EraseInstruction>& erase) {
    for (const v1::EraseInstruction& instruction : erase) {
      auto applied =
          store_.ApplyErasure(instruction.id(), instruction.salt(), instruction.account_mac());
      if (!applied.has_value()) {
        log::Warning("sync: cannot carry out an erase instruction; it comes again",
                     {{"id", instruction.id()}, {"error", applied.error().ToString()}});
        continue;
      }
      if (!applied->has_value()) {
        // Done before, yet sent again: the collector lost the confirmation. Confirm it again
        // with the next status (not at once, so a collector that keeps losing it is not
        // called in a loop).
        const std::string key = std::string(store::kErasureStatePrefix) + instruction.id();
        if (auto s = store_.PutState(key, store::kErasureApplied); !s) {
          log::Warning("sync: cannot record an erasure to confirm",
                       {{"id", instruction.id()}, {"error", s.error().ToString()}});
        }
        continue;
      }
      log::Info("sync: erased a person's events as the collector asked",
                {{"id", instruction.id()}, {"events", **applied}});
      erasures_to_confirm_ = true;
      std::scoped_lock lock(mu_);
      ++snapshot_.erasures_applied;
      snapshot_.events_erased += **applied;
    }
  }

  // ---- policy -------------------------------------------------------------------------------

  void PolicyLoop() {
    Backoff backoff(options_.backoff_base, options_.backoff_cap, random_);
    while (!Stopping()) {
      milliseconds retry_after(0);
      const Round round = PolicyOnce(retry_after);
      if (round == Round::kMore || round == Round::kIdle) {
        backoff.Reset();
        continue;  // the collector held the request as long as it wanted: ask again
      }
      const milliseconds delay = backoff.NextDelay(
          retry_after.count() > 0
              ? std::optional<seconds>(std::chrono::duration_cast<seconds>(retry_after))
              : std::nullopt);
      WaitFor(delay, false);
    }
  }

  Round PolicyOnce(milliseconds& retry_after) {
    auto credential = EnsureEnrolled();
    if (!credential.has_value()) {
      RecordError(credential.error());
      return Round::kFailed;
    }
    const std::uint64_t in_force = sink_.CurrentPolicyVersion();
    std::uint64_t ask;
    {
      std::scoped_lock lock(mu_);
      // A version we refused is not asked for again: wait for a newer one instead.
      ask = std::max(in_force, snapshot_.rejected_policy_version);
    }
    v1::PolicyFetchRequest request;
    request.set_current_version(ask);
    request.set_wait_seconds(static_cast<std::uint32_t>(options_.policy_wait.count()));
    auto reply = transport_.Post("/v1/policy", request.SerializeAsString(), credential->Bearer(),
                                 options_.policy_wait + options_.request_timeout);
    if (!reply.has_value()) {
      RecordError(reply.error());
      return Round::kFailed;
    }
    if (reply->status == 401) {
      ForgetCredential(*credential);
      return Round::kFailed;
    }
    if (reply->status == 429 || reply->status == 503) {
      retry_after = RetryAfter(*reply);
      if (reply->status == 429) {
        return Round::kFailed;  // flow control, not a failure worth a log line
      }
    }
    if (reply->status != 200) {
      RecordError(Error(ErrorCode::kUnavailable, "fetching policy: " + DescribeReply(*reply)));
      return Round::kFailed;
    }
    v1::PolicyFetchResponse response;
    if (!response.ParseFromString(reply->body)) {
      RecordError(Error(ErrorCode::kUnavailable,
                        "fetching policy: the collector's answer is not a PolicyFetchResponse"));
      return Round::kFailed;
    }
    if (!response.has_policy()) {
      return Round::kIdle;
    }
    HandlePolicy(response, in_force);
    return Round::kMore;
  }

  void HandlePolicy(const v1::PolicyFetchResponse& response, std::uint64_t in_force) {
    auto verified = policy::VerifySignedPolicy(response.policy(), policy_key_, in_force);
    Status applied = verified.has_value() ? sink_.ApplyPolicy(*verified, response.policy())
                                          : Status(std::unexpected(verified.error()));
    if (applied) {
      log::Info("sync: policy applied",
                {{"version", verified->version()}, {"name", verified->name()}});
      std::scoped_lock lock(mu_);
      ++snapshot_.policies_applied;
      return;
    }
    // What the bytes claim (they may be forged; this only names it in the report).
    std::uint64_t claimed = 0;
    if (v1::Policy parsed; parsed.ParseFromString(response.policy().policy())) {
      claimed = parsed.version();
    }
    // Stop asking for what the collector calls newest: wait for a newer one instead.
    const std::uint64_t refused = std::max({response.latest_version(), claimed, in_force});
    const std::string detail = "policy version " + std::to_string(claimed) + " refused, version " +
                               std::to_string(in_force) +
                               " stays in force: " + applied.error().ToString();
    log::Error("sync: policy rejected", {{"detail", detail}});
    {
      std::scoped_lock lock(mu_);
      ++snapshot_.policies_rejected;
      snapshot_.rejected_policy_version = std::max(snapshot_.rejected_policy_version, refused);
    }
    v1::Event event;
    event.set_id(ids_.Next().ToString());
    const auto now =
        std::chrono::duration_cast<std::chrono::milliseconds>(clock_.Now().time_since_epoch());
    event.mutable_device_time()->set_seconds(now.count() / 1000);
    event.mutable_device_time()->set_nanos(static_cast<std::int32_t>(now.count() % 1000) *
                                           1'000'000);
    // A policy that fails its signature may be an attack: report it like tamper.
    event.set_priority(v1::PRIORITY_CRITICAL);
    event.set_policy_version(in_force);
    event.mutable_agent()->set_kind(v1::AgentEvent::KIND_POLICY_REJECTED);
    event.mutable_agent()->set_detail(detail);
    if (Status s = store_.Append(event); !s) {
      log::Error("sync: cannot record the policy rejection", {{"error", s.error().ToString()}});
      return;
    }
    NotifyAppended(v1::PRIORITY_CRITICAL);
  }

  const SyncOptions options_;
  const policy::PublicKey policy_key_;
  const Clock& clock_;
  Random& random_;
  CollectorTransport& transport_;
  store::EventStore& store_;
  PolicySink& sink_;
  StatusSource* status_;
  UuidV7Generator ids_;

  std::mutex enrol_mu_;  // serialises enrolment; held across its network call
  // An erase instruction was carried out and is not confirmed yet: send the status now. Upload
  // thread only.
  bool erasures_to_confirm_ = false;
  std::optional<Credential> credential_;  // guarded by enrol_mu_
  std::optional<Credential> previous_;    // the last credential refused; guarded by enrol_mu_
  // The collector's last refusal of an enrolment, answered without a request until
  // enrol_not_before_. Guarded by enrol_mu_.
  std::optional<Error> enrol_refusal_;
  std::chrono::steady_clock::time_point enrol_not_before_;  // guarded by enrol_mu_

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool started_ = false;            // guarded by mu_
  bool stopping_ = false;           // guarded by mu_
  bool critical_pending_ = false;   // guarded by mu_
  bool appended_pending_ = false;   // telemetry appended since the loop last looked; guarded by mu_
  SyncSnapshot snapshot_;           // guarded by mu_
  std::atomic<int> reachable_{-1};  // last value given to on_reachable; -1: none yet
  std::thread upload_thread_;
  std::thread policy_thread_;
};

SyncEngine::SyncEngine(SyncOptions options, policy::PublicKey policy_key,
                       CollectorTransport& transport, store::EventStore& store, PolicySink& sink,
                       StatusSource* status)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(policy_key), transport, store,
                                   sink, status)) {}

SyncEngine::~SyncEngine() = default;

void SyncEngine::Start() { impl_->Start(); }
void SyncEngine::Stop() { impl_->Stop(); }
void SyncEngine::NotifyAppended(v1::Priority priority) { impl_->NotifyAppended(priority); }
SyncSnapshot SyncEngine::Snapshot() const { return impl_->Snapshot(); }

}  // namespace ward::agent::sync
