// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

#include "ward/common/clock.h"

namespace ward::agent::ipc {

// A token bucket per user: `burst` actions at once, then one more every `refill_every`.
// Time comes from the injected Clock (steady time). Thread-safe.
class RateLimiter {
 public:
  struct Limit {
    std::uint32_t burst = 1;
    std::chrono::seconds refill_every{60};
  };

  RateLimiter(Clock& clock, Limit limit) : clock_(clock), limit_(limit) {}

  // Takes one token for `user_id` (Caller::user_id). On success returns 0; otherwise the whole
  // seconds (>= 1) until a token is available again. Never blocks.
  std::uint32_t TryAcquire(std::string_view user_id);

 private:
  struct Bucket {
    double tokens = 0;
    std::chrono::steady_clock::time_point updated;
  };
  Clock& clock_;
  Limit limit_;
  std::mutex mu_;
  std::map<std::string, Bucket, std::less<>> buckets_;  // guarded by mu_
};

}  // namespace ward::agent::ipc
