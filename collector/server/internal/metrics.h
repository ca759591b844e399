// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>

#include "ward/collector/storage/storage.h"

namespace ward::collector::internal {

// The collector's counters, rendered in the Prometheus text format. Thread-safe.
class Metrics {
 public:
  // `endpoint` is the route's pattern ("other" when none matched), so ids in paths cannot blow
  // up the series count; `status` 0 means the request was parked as a long-poll.
  void CountRequest(std::string_view endpoint, int status);
  std::string Render(std::uint64_t connections_open, std::uint64_t long_polls_waiting,
                     std::uint64_t handshake_failures) const;

  std::atomic<std::uint64_t> events_stored{0};
  std::atomic<std::uint64_t> events_duplicate{0};
  std::atomic<std::uint64_t> events_rejected{0};
  std::atomic<std::uint64_t> concerns_new{0};
  std::atomic<std::uint64_t> concerns_deferred{0};  // over a device's quota, left with the agent
  std::atomic<std::uint64_t> policy_pushes{0};
  std::atomic<std::uint64_t> long_polls{0};
  std::atomic<std::uint64_t> rate_limited{0};
  std::atomic<std::uint64_t> enrol_refused{0};
  // Devices (not revoked) not seen for the retention limit, as of the last retention run.
  std::atomic<std::uint64_t> devices_unseen{0};

  // Adds what a retention run deleted.
  void CountRetention(const RetentionCounts& counts);

 private:
  mutable std::mutex mu_;
  std::map<std::pair<std::string, int>, std::uint64_t> requests_;  // guarded by mu_
  RetentionCounts retention_deleted_;                              // guarded by mu_
};

}  // namespace ward::collector::internal
