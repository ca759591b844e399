// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "internal/http_server.h"
#include "ward/collector/storage/storage.h"
#include "ward/common/clock.h"
#include "ward/common/result.h"

namespace ward::collector::internal {

struct PolicySnapshot {
  std::uint64_t version = 0;  // 0: the group has no policy yet
  std::string signed_policy;  // serialised ward.v1.SignedPolicy
};

// The newest signed policy of each group and the long-poll that waits for the next one. A
// fetch with nothing newer becomes a Park: the HTTP server holds the connection without a
// thread under the group's name (docs/adr/0002). When a newer version is stored (a push here,
// or on PostgreSQL a push on another collector, heard through LISTEN/NOTIFY), the feed refreshes
// its cache and publishes the answer, which wakes every parked poll of the group at once.
// Thread-safe.
class PolicyFeed {
 public:
  // Wakes the polls parked under `group` whose version is below `version`.
  using Publisher =
      std::function<void(const std::string& group, std::uint64_t version, HttpResponse answer)>;

  // `storage` and `clock` must outlive the feed.
  PolicyFeed(Storage& storage, const Clock& clock, std::chrono::seconds long_poll_max,
             Publisher publish);
  ~PolicyFeed();
  PolicyFeed(const PolicyFeed&) = delete;
  PolicyFeed& operator=(const PolicyFeed&) = delete;

  // Follows policy changes made by other collectors sharing the store (a no-op on SQLite).
  Status Start();
  // Stops following them; idempotent.
  void Stop();
  // True when another collector's changes are followed (a shared store).
  bool shared() const;

  // The group's newest policy, from the cache or, the first time, the store.
  Result<PolicySnapshot> Snapshot(const std::string& group);
  // A device's policy fetch: the policy at once when the group has a version newer than
  // `current_version`; otherwise "nothing newer" at once when `wait` is zero, or a Park held
  // until the next version or min(wait, long_poll_max).
  Result<HandlerResult> Fetch(const std::string& group, std::uint64_t current_version,
                              std::chrono::seconds wait);
  // A group's policy changed ("" for every group, e.g. after a reconnect): refresh the cache
  // from the store and publish what is newer.
  void Changed(const std::string& group);

 private:
  Storage& storage_;
  const Clock& clock_;
  const std::chrono::seconds long_poll_max_;
  const Publisher publish_;
  std::unique_ptr<PolicyChangeSubscription> subscription_;
  std::mutex mu_;
  std::map<std::string, PolicySnapshot> policies_;  // guarded by mu_
};

}  // namespace ward::collector::internal
