// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

#include "ward/collector/server/concern_alerter.h"
#include "ward/collector/storage/storage.h"
#include "ward/common/clock.h"
#include "ward/common/result.h"

namespace ward::collector {

struct CollectorOptions {
  std::string listen_address = "127.0.0.1";
  std::uint16_t port = 8443;  // 0: any free port (tests)
  std::filesystem::path tls_cert;
  std::filesystem::path tls_key;
  std::size_t max_body_bytes = 8 * 1024 * 1024;
  std::size_t max_events_per_batch = 10000;
  int worker_threads = 4;
  // Per-device token bucket: sustained requests per second and burst.
  double device_rate_per_second = 5.0;
  double device_burst = 30.0;
  // Per-device concern quota (docs/security.md, finding 3): concerns not marked "in danger
  // now" beyond `concern_quota_per_hour` in the last hour, or past `concern_quota_bytes_per_day`
  // of text and screenshots in the last day, are left with the agent, which sends them again
  // later. A concern whose learner is in danger now is always taken.
  std::size_t concern_quota_per_hour = 20;
  std::size_t concern_quota_bytes_per_day = 64 * 1024 * 1024;
  // Enrolment (POST /v1/enrol) token buckets, per source address and per group: sustained
  // enrolments per minute and burst (429 + Retry-After past them; docs/adr/0012).
  double enrol_per_address_per_minute = 6.0;
  double enrol_address_burst = 20.0;
  double enrol_per_group_per_minute = 30.0;
  double enrol_group_burst = 200.0;
  std::chrono::seconds long_poll_max{30};
  std::size_t max_connections = 20000;
  // Connections from one IPv4 address at most (the server also caps it at half of
  // max_connections). Sites whose laptops share one NAT address raise it.
  std::size_t max_connections_per_address = 256;
  // The staff console (docs/console.md): its files are served from `console_dir` when
  // `console` is on. Sessions end `console_idle` after their last activity and
  // `console_session_max` after sign-in; sign-in attempts are limited per address.
  bool console = false;
  std::filesystem::path console_dir;
  std::chrono::seconds console_idle{30 * 60};
  std::chrono::seconds console_session_max{12 * 60 * 60};
  double console_sign_ins_per_minute = 10.0;
  double console_sign_in_burst = 10.0;
  // The retention job (docs/collector.md, "Retention"): how long each class is kept, and how
  // often the job runs (at start, then every `retention_interval`). 0 runs no job; the
  // collector's configuration (`retention_interval_hours`) defaults to 24.
  RetentionLimits retention;
  std::chrono::hours retention_interval{0};
  // Records deleted per transaction, and the pause between two transactions.
  std::size_t retention_batch_rows = 1000;
  std::chrono::milliseconds retention_pause{50};
};

// A running collector: the HTTPS API (device and staff) over one Storage. Owns its threads;
// Stop() or destruction ends them. Thread-safe.
class Collector {
 public:
  // `storage`, `alerter` and `clock` must outlive the collector.
  static Result<std::unique_ptr<Collector>> Start(const CollectorOptions& options, Storage& storage,
                                                  ConcernAlerter& alerter, const Clock& clock);
  virtual ~Collector() = default;
  virtual std::uint16_t port() const = 0;
  virtual void Stop() = 0;
};

}  // namespace ward::collector
