// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "ward/agent/store/event_store.h"
#include "ward/agent/sync/transport.h"
#include "ward/common/clock.h"
#include "ward/common/random.h"
#include "ward/common/result.h"
#include "ward/policy/signing.h"
#include "ward/v1/event.pb.h"
#include "ward/v1/policy.pb.h"
#include "ward/v1/sync.pb.h"

namespace ward::agent::sync {

// Where a verified policy goes (enforcement). ApplyPolicy is called from the engine's policy
// thread only; CurrentPolicyVersion from either of its threads, so it must be thread-safe.
class PolicySink {
 public:
  virtual ~PolicySink() = default;
  // The version in force now (0 for none). The engine asks before every fetch.
  virtual std::uint64_t CurrentPolicyVersion() = 0;
  // Applies a policy whose signature and version the engine has verified. An error keeps the
  // old policy in force; the engine records it as KIND_POLICY_REJECTED.
  virtual Status ApplyPolicy(const v1::Policy& policy, const v1::SignedPolicy& signed_policy) = 0;
};

// What the engine reports about the device in its heartbeat. Called from the upload thread.
class StatusSource {
 public:
  virtual ~StatusSource() = default;
  // Fills agent version, mode and degradations; the engine adds the store and policy version.
  virtual v1::DeviceStatus CurrentStatus() = 0;
};

struct SyncOptions {
  std::string enrolment_secret;
  std::string hostname;
  std::string os;
  std::string agent_version;
  std::string machine_hash;

  std::size_t batch_max_events = 500;
  std::size_t batch_max_bytes = std::size_t{1} << 20;
  // Telemetry is uploaded at least this often; CRITICAL events at once (NotifyAppended).
  std::chrono::milliseconds upload_interval{10'000};
  std::chrono::milliseconds status_interval{300'000};
  // Long-poll wait the collector is asked for, and the extra time allowed for the answer.
  std::chrono::seconds policy_wait{30};
  std::chrono::seconds request_timeout{30};
  // Backoff after failures: full jitter between 0 and min(cap, base * 2^n).
  std::chrono::milliseconds backoff_base{1'000};
  std::chrono::milliseconds backoff_cap{300'000};
  // While CRITICAL events (a learner's concern) wait in the store, a failed upload is retried
  // at least this often, however far the backoff has grown, so a concern is delivered within
  // seconds of the collector coming back. A collector's Retry-After is still obeyed.
  std::chrono::milliseconds critical_retry_cap{2'000};
  // Longest Retry-After obeyed (a hostile or broken answer cannot park the agent for days).
  std::chrono::seconds max_retry_after{3'600};
  // After the collector refuses an enrolment (403: the device is revoked or waits for IT to
  // readmit it; 401: the secret is unknown), the next attempt waits this long. Nothing is sent
  // meanwhile, and the refusal is logged once.
  std::chrono::milliseconds enrol_refused_retry{3'600'000};

  // Called (from the upload thread) with the ids the collector acknowledged as stored, after
  // they are deleted from the store. May be empty (no callback).
  std::function<void(const std::vector<std::string>& acked_ids)> on_acked;
  // Called when the collector becomes reachable (a call succeeds) or unreachable (a call
  // fails), on changes only, from either engine thread. May be empty.
  std::function<void(bool reachable)> on_reachable;

  const Clock* clock = nullptr;  // nullptr: SystemClock()
  Random* random = nullptr;      // nullptr: SystemRandom()
};

// What the engine has done so far, for `ward-agent status`, the heartbeat and tests.
struct SyncSnapshot {
  bool enrolled = false;
  std::string device_id;
  std::string group;
  std::uint64_t enrolments = 0;
  std::uint64_t enrol_attempts = 0;   // enrolment requests sent, refused or not
  std::uint64_t events_acked = 0;     // stored at the collector (including duplicates)
  std::uint64_t events_rejected = 0;  // refused by the collector as malformed (deleted too)
  std::uint64_t upload_failures = 0;
  std::uint64_t rate_limited = 0;  // 429 answers
  std::chrono::seconds last_retry_after{0};
  std::chrono::milliseconds last_upload_delay{0};  // the wait chosen after the last failure
  std::uint64_t policies_applied = 0;
  std::uint64_t policies_rejected = 0;
  std::uint64_t rejected_policy_version = 0;
  std::uint64_t statuses_sent = 0;
  std::uint64_t store_leases = 0;        // times the upload loop looked into the store
  std::uint64_t erasures_applied = 0;    // erase instructions carried out (each once)
  std::uint64_t erasures_confirmed = 0;  // of those, confirmed to the collector
  std::uint64_t events_erased = 0;       // local events the instructions deleted
  std::string last_error;                // empty once a call succeeds again
  ErrorCode last_error_code = ErrorCode::kInternal;
};

// Drives a CollectorTransport against the event store: enrols once (the credential is kept in
// the store's state table and renewed on 401), uploads leased events and acknowledges what the
// collector acknowledged, long-polls for policy (verified with policy/signing before it reaches
// the PolicySink; a bad one is recorded as KIND_POLICY_REJECTED and the old one stays), and sends
// a status heartbeat. Failures back off with full jitter; 429 Retry-After is honoured.
//
// Threads: Start() runs an upload thread and a policy thread; Stop() (or destruction) cancels
// in-flight requests and joins them promptly. All public methods are thread-safe.
class SyncEngine {
 public:
  // `policy_key` is the pinned Ed25519 key: a policy signed by any other key is rejected.
  // `transport`, `store`, `sink` and `status` (may be null) must outlive the engine.
  SyncEngine(SyncOptions options, policy::PublicKey policy_key, CollectorTransport& transport,
             store::EventStore& store, PolicySink& sink, StatusSource* status = nullptr);
  ~SyncEngine();
  SyncEngine(const SyncEngine&) = delete;
  SyncEngine& operator=(const SyncEngine&) = delete;

  void Start();
  void Stop();
  // Tells the uploader an event was appended: a CRITICAL one is uploaded at once.
  void NotifyAppended(v1::Priority priority);
  SyncSnapshot Snapshot() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

// State-table key holding the serialised EnrolResponse (device id, credential, group).
inline constexpr std::string_view kCredentialStateKey = "sync.credential";

}  // namespace ward::agent::sync
