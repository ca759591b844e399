// SPDX-License-Identifier: Apache-2.0
#include "ward/agent/ipc/rate_limiter.h"

#include <algorithm>
#include <cmath>

namespace ward::agent::ipc {

std::uint32_t RateLimiter::TryAcquire(std::string_view user_id) {
  const auto now = clock_.SteadyNow();
  const double burst = static_cast<double>(std::max<std::uint32_t>(limit_.burst, 1));
  const double period = static_cast<double>(std::max<std::int64_t>(limit_.refill_every.count(), 1));
  std::scoped_lock lock(mu_);
  auto it = buckets_.find(user_id);
  const bool inserted = it == buckets_.end();
  if (inserted) {
    it = buckets_.emplace(std::string(user_id), Bucket{burst, now}).first;
  }
  Bucket& bucket = it->second;
  if (!inserted) {
    const double elapsed = std::chrono::duration<double>(now - bucket.updated).count();
    bucket.tokens = std::min(burst, bucket.tokens + std::max(elapsed, 0.0) / period);
    bucket.updated = now;
  }
  if (bucket.tokens >= 1.0) {
    bucket.tokens -= 1.0;
    return 0;
  }
  const double wait = (1.0 - bucket.tokens) * period;
  return static_cast<std::uint32_t>(std::max(1.0, std::ceil(wait)));
}

}  // namespace ward::agent::ipc
