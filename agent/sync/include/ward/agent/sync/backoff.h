// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>

#include "ward/common/random.h"

namespace ward::agent::sync {

// Exponential backoff with full jitter: after the n-th consecutive failure the delay is uniform
// in [0, min(cap, base * 2^n)] ("Exponential Backoff And Jitter", AWS architecture blog), so a
// fleet coming back after a collector outage spreads out instead of arriving together. A
// server's Retry-After is a floor. Thread-compatible.
class Backoff {
 public:
  Backoff(std::chrono::milliseconds base, std::chrono::milliseconds cap, Random& random)
      : base_(base), cap_(cap), random_(random) {}

  // The delay before the next attempt after one more failure.
  std::chrono::milliseconds NextDelay(
      std::optional<std::chrono::seconds> retry_after = std::nullopt);
  // After a success.
  void Reset() { failures_ = 0; }
  std::uint32_t failures() const { return failures_; }
  // The upper bound NextDelay draws from for the current failure count.
  std::chrono::milliseconds CeilingForTesting() const { return Ceiling(); }

 private:
  std::chrono::milliseconds Ceiling() const;

  std::chrono::milliseconds base_;
  std::chrono::milliseconds cap_;
  Random& random_;
  std::uint32_t failures_ = 0;
};

}  // namespace ward::agent::sync
