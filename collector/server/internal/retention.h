// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <optional>
#include <thread>

#include "internal/metrics.h"
#include "ward/collector/storage/storage.h"
#include "ward/common/clock.h"
#include "ward/common/result.h"

namespace ward::collector::internal {

struct RetentionOptions {
  RetentionLimits limits;
  std::chrono::milliseconds interval{24 * 60 * 60 * 1000};
  // Records per transaction, and the pause between transactions, so ingest and long-polls keep
  // answering while a large purge runs.
  std::size_t batch_rows = 1000;
  std::chrono::milliseconds pause{50};
};

// The retention job (docs/collector.md, "Retention"): deletes expired records at start and then
// every `interval`, on its own thread. On a shared PostgreSQL only one collector runs it at a
// time (Storage::TryRetentionLease); the others skip that run. Each run adds its counts to
// `metrics`, writes one audit row (staff "ward-collector", action "retention.run", the counts in
// its subject) and, on SQLite, gives freed pages back. Thread-safe; everything passed in must
// outlive it.
class RetentionJob {
 public:
  RetentionJob(Storage& storage, const Clock& clock, Metrics& metrics, RetentionOptions options);
  ~RetentionJob();
  RetentionJob(const RetentionJob&) = delete;
  RetentionJob& operator=(const RetentionJob&) = delete;

  // Starts the thread; its first run begins at once.
  void Start();
  // Stops between two transactions; the run in progress is recorded as far as it went.
  void Stop();

  // One run on the caller's thread at the clock's time: what it deleted, or nothing when
  // another collector holds the lease. An error after some batches still records those.
  Result<std::optional<RetentionCounts>> RunOnce();

 private:
  void Loop();
  // Waits `d`, or less when stopping: false when stopping.
  bool Wait(std::chrono::milliseconds d);
  bool Stopping();
  void Record(std::int64_t now_ms, const RetentionCounts& counts);

  Storage& storage_;
  const Clock& clock_;
  Metrics& metrics_;
  const RetentionOptions options_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;  // guarded by mu_
  std::thread thread_;
};

}  // namespace ward::collector::internal
