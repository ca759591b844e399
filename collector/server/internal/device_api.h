// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "internal/metrics.h"
#include "internal/policy_feed.h"
#include "internal/rate_limiter.h"
#include "internal/router.h"
#include "ward/collector/server/collector.h"
#include "ward/collector/server/concern_alerter.h"
#include "ward/collector/storage/storage.h"
#include "ward/common/clock.h"
#include "ward/common/uuid.h"
#include "ward/v1/sync.pb.h"

namespace ward::collector::internal {

// The device API (protobuf bodies, docs/collector.md "Device API"): enrolment, event ingest,
// the policy long-poll and the status heartbeat. Authenticated calls are rate-limited per device
// (429 with Retry-After). Thread-safe; everything passed in must outlive it.
class DeviceApi {
 public:
  DeviceApi(const CollectorOptions& options, Storage& storage, ConcernAlerter& alerter,
            PolicyFeed& policies, Metrics& metrics, const Clock& clock);

  // Adds POST /v1/enrol, /v1/events, /v1/policy and /v1/status.
  Status Register(Router& router);

 private:
  HandlerResult Enrol(const Call& call);
  // 429 when `key`'s enrolment bucket in `limiter` is empty (reported to staff at most every
  // ten minutes per key), else nullopt.
  std::optional<HttpResponse> EnrolLimited(RateLimiter& limiter, const std::string& key);
  // Whether an enrolment for the known device `d` may take its id (docs/adr/0012): it proves the
  // device's credential, or IT readmitted the device. Else the refusal (403), recorded.
  std::optional<HttpResponse> RefuseTakeover(const DeviceRecord& d,
                                             const ward::v1::EnrolRequest& in,
                                             const std::string& peer);
  // An unusual enrolment in the audit log staff read (subject: a device id, "address <a>" or
  // "group <g>"), and logged. An audit write that fails is logged as an error.
  void ReportEnrolment(std::string_view action, const std::string& subject,
                       const std::string& peer);
  HandlerResult Events(const Call& call, const DevicePrincipal& device);
  HandlerResult PolicyFetch(const Call& call, const DevicePrincipal& device);
  HandlerResult Heartbeat(const Call& call, const DevicePrincipal& device);
  // Adds the device's unconfirmed erase instructions to an acknowledgement (logs a failure).
  void AttachEraseInstructions(const std::string& device_id,
                               const std::vector<EraseInstruction>& pending,
                               google::protobuf::RepeatedPtrField<v1::EraseInstruction>* out);
  // Takes out of `rows` the concerns past the device's quota (never one marked "in danger
  // now"); returns how many. The agent keeps what is not acknowledged and sends it again.
  Result<std::size_t> DeferConcernsOverQuota(const std::string& device_id,
                                             std::vector<EventRow>& rows, std::int64_t now_ms);
  // The handler behind the device's token bucket.
  DeviceHandler Limited(HandlerResult (DeviceApi::*handler)(const Call&, const DevicePrincipal&));
  std::int64_t NowMs() const;

  const CollectorOptions& options_;
  Storage& storage_;
  ConcernAlerter& alerter_;
  PolicyFeed& policies_;
  Metrics& metrics_;
  const Clock& clock_;
  RateLimiter limiter_;
  RateLimiter enrol_address_limiter_;
  RateLimiter enrol_group_limiter_;
  std::mutex reported_mu_;
  // When each limited key was last reported; entries older than the interval are dropped.
  std::map<std::string, std::int64_t> limit_reported_ms_;  // guarded by reported_mu_
  UuidV7Generator ids_;
};

}  // namespace ward::collector::internal
