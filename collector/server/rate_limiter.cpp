// SPDX-License-Identifier: Apache-2.0
#include "internal/rate_limiter.h"

#include <algorithm>
#include <cmath>

namespace ward::collector::internal {

std::optional<std::chrono::milliseconds> RateLimiter::Acquire(const std::string& key) {
  const auto now = clock_.SteadyNow();
  std::scoped_lock lock(mu_);
  auto [it, inserted] = buckets_.try_emplace(key, Bucket{burst_, now});
  Bucket& b = it->second;
  const double elapsed = std::chrono::duration<double>(now - b.at).count();
  b.tokens = std::min(burst_, b.tokens + elapsed * rate_);
  b.at = now;
  if (b.tokens >= 1.0) {
    b.tokens -= 1.0;
    return std::nullopt;
  }
  const double wait_s = (1.0 - b.tokens) / rate_;
  return std::chrono::milliseconds(static_cast<long>(std::ceil(wait_s * 1000.0)));
}

}  // namespace ward::collector::internal
