// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <atomic>
#include <chrono>

namespace ward {

// Time source, injected everywhere time matters so tests control it. Thread-safe.
class Clock {
 public:
  virtual ~Clock() = default;
  // Wall-clock time (event timestamps, policy issue times).
  virtual std::chrono::system_clock::time_point Now() const = 0;
  // Monotonic time (timeouts, leases, rate limits).
  virtual std::chrono::steady_clock::time_point SteadyNow() const = 0;
};

// The real clocks. The returned object lives for the whole process.
Clock& SystemClock();

// A clock that only moves when told to. Starts at the given wall time. Thread-safe.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(
      std::chrono::system_clock::time_point start =
          std::chrono::system_clock::time_point(std::chrono::seconds(1'700'000'000)));
  std::chrono::system_clock::time_point Now() const override;
  std::chrono::steady_clock::time_point SteadyNow() const override;
  void Advance(std::chrono::nanoseconds by);

 private:
  std::atomic<std::int64_t> offset_ns_{0};
  std::chrono::system_clock::time_point start_wall_;
};

}  // namespace ward
