// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "internal/metrics.h"
#include "internal/policy_feed.h"
#include "internal/rate_limiter.h"
#include "internal/router.h"
#include "ward/collector/server/collector.h"
#include "ward/collector/server/concern_alerter.h"
#include "ward/collector/storage/storage.h"
#include "ward/common/clock.h"
#include "ward/common/uuid.h"

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
  HandlerResult Events(const Call& call, const DevicePrincipal& device);
  HandlerResult PolicyFetch(const Call& call, const DevicePrincipal& device);
  HandlerResult Heartbeat(const Call& call, const DevicePrincipal& device);
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
  UuidV7Generator ids_;
};

}  // namespace ward::collector::internal
