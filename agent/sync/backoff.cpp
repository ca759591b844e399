// SPDX-License-Identifier: Apache-2.0
#include "ward/agent/sync/backoff.h"

#include <algorithm>

namespace ward::agent::sync {

std::chrono::milliseconds Backoff::Ceiling() const {
  // base * 2^failures, saturating at the cap (no overflow for any failure count).
  const std::int64_t cap = std::max<std::int64_t>(cap_.count(), 1);
  std::int64_t ceiling = std::max<std::int64_t>(base_.count(), 1);
  for (std::uint32_t i = 1; i < failures_ && ceiling < cap; ++i) {
    ceiling *= 2;
  }
  return std::chrono::milliseconds(std::min(ceiling, cap));
}

std::chrono::milliseconds Backoff::NextDelay(std::optional<std::chrono::seconds> retry_after) {
  if (failures_ < 64) {
    ++failures_;
  }
  const auto ceiling = static_cast<std::uint64_t>(Ceiling().count());
  const auto drawn = static_cast<std::int64_t>(random_.NextU64() % (ceiling + 1));
  std::chrono::milliseconds delay(drawn);
  if (retry_after.has_value()) {
    delay = std::max<std::chrono::milliseconds>(delay, *retry_after);
  }
  return delay;
}

}  // namespace ward::agent::sync
