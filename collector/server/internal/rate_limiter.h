// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <chrono>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "ward/common/clock.h"

namespace ward::collector::internal {

// One token bucket per key (device id). Thread-safe.
class RateLimiter {
 public:
  RateLimiter(const Clock& clock, double rate_per_second, double burst)
      : clock_(clock), rate_(rate_per_second), burst_(burst) {}

  // Takes a token for `key`; when none is left, returns how long until one will be.
  std::optional<std::chrono::milliseconds> Acquire(const std::string& key);

 private:
  struct Bucket {
    double tokens;
    std::chrono::steady_clock::time_point at;
  };
  const Clock& clock_;
  const double rate_;
  const double burst_;
  std::mutex mu_;
  std::unordered_map<std::string, Bucket> buckets_;  // guarded by mu_
};

}  // namespace ward::collector::internal
