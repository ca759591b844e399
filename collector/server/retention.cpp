// SPDX-License-Identifier: Apache-2.0
#include "internal/retention.h"

#include <string>
#include <utility>

#include "ward/common/log.h"

namespace ward::collector::internal {
namespace {

std::string Describe(const RetentionCounts& c) {
  return "telemetry=" + std::to_string(c.telemetry) + " aup=" + std::to_string(c.aup) +
         " concerns=" + std::to_string(c.concerns) + " audit=" + std::to_string(c.audit);
}

}  // namespace

RetentionJob::RetentionJob(Storage& storage, const Clock& clock, Metrics& metrics,
                           RetentionOptions options)
    : storage_(storage), clock_(clock), metrics_(metrics), options_(std::move(options)) {}

RetentionJob::~RetentionJob() { Stop(); }

void RetentionJob::Start() {
  std::scoped_lock lock(mu_);
  if (!thread_.joinable() && !stopping_) {
    thread_ = std::thread([this] { Loop(); });
  }
}

void RetentionJob::Stop() {
  {
    std::scoped_lock lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) {
    thread_.join();
  }
}

bool RetentionJob::Wait(std::chrono::milliseconds d) {
  std::unique_lock lock(mu_);
  return !cv_.wait_for(lock, d, [this] { return stopping_; });
}

bool RetentionJob::Stopping() {
  std::scoped_lock lock(mu_);
  return stopping_;
}

void RetentionJob::Loop() {
  do {
    // Handled here: the next run tries again.
    if (auto run = RunOnce(); !run.has_value()) {
      log::Error("the retention run failed; it runs again at the next interval",
                 {{"error", run.error().ToString()}});
    }
  } while (Wait(options_.interval));
}

Result<std::optional<RetentionCounts>> RetentionJob::RunOnce() {
  WARD_ASSIGN_OR_RETURN(std::unique_ptr<RetentionLease> lease, storage_.TryRetentionLease());
  if (lease == nullptr) {
    log::Info("retention skipped: another collector is running it");
    return std::optional<RetentionCounts>();
  }
  // One time for the whole run, so its batches agree on what has expired.
  const std::int64_t now_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(clock_.Now().time_since_epoch())
          .count();
  RetentionCounts total;
  Status outcome = OkStatus();
  for (;;) {
    auto batch = storage_.PurgeExpired(now_ms, options_.limits, options_.batch_rows);
    if (!batch.has_value()) {
      outcome = std::unexpected(batch.error());
      break;
    }
    total += *batch;
    if (batch->Total() < options_.batch_rows || Stopping() || !Wait(options_.pause)) {
      break;
    }
  }
  Record(now_ms, total);
  WARD_RETURN_IF_ERROR(outcome);
  return std::optional<RetentionCounts>(total);
}

void RetentionJob::Record(std::int64_t now_ms, const RetentionCounts& counts) {
  // Each failure is logged here, once; the counts reach /metrics whatever fails, last (a
  // reader that sees them sees the whole run recorded).
  if (auto unseen = storage_.CountDevicesLastSeenBy(now_ms - options_.limits.device_unseen_ms);
      unseen.has_value()) {
    metrics_.devices_unseen.store(*unseen);
  } else {
    log::Warning("could not count the devices not seen", {{"error", unseen.error().ToString()}});
  }
  if (auto written =
          storage_.AppendAudit({now_ms, "ward-collector", "retention.run", Describe(counts)});
      !written.has_value()) {
    log::Error("could not write the retention run to the audit log",
               {{"error", written.error().ToString()}});
  }
  if (auto reclaimed = storage_.ReclaimFreePages(); !reclaimed.has_value()) {
    log::Warning("could not give freed pages back to the file system",
                 {{"error", reclaimed.error().ToString()}});
  }
  metrics_.CountRetention(counts);
  log::Info("retention run", {{"telemetry", counts.telemetry},
                              {"aup", counts.aup},
                              {"concerns", counts.concerns},
                              {"audit", counts.audit}});
}

}  // namespace ward::collector::internal
