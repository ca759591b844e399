// SPDX-License-Identifier: Apache-2.0
#include "ward/common/clock.h"

namespace ward {
namespace {

class RealClock final : public Clock {
 public:
  std::chrono::system_clock::time_point Now() const override {
    return std::chrono::system_clock::now();
  }
  std::chrono::steady_clock::time_point SteadyNow() const override {
    return std::chrono::steady_clock::now();
  }
};

}  // namespace

Clock& SystemClock() {
  static RealClock clock;
  return clock;
}

ManualClock::ManualClock(std::chrono::system_clock::time_point start) : start_wall_(start) {}

std::chrono::system_clock::time_point ManualClock::Now() const {
  return start_wall_ + std::chrono::duration_cast<std::chrono::system_clock::duration>(
                           std::chrono::nanoseconds(offset_ns_.load()));
}

std::chrono::steady_clock::time_point ManualClock::SteadyNow() const {
  return std::chrono::steady_clock::time_point(
      std::chrono::duration_cast<std::chrono::steady_clock::duration>(
          std::chrono::hours(1) + std::chrono::nanoseconds(offset_ns_.load())));
}

void ManualClock::Advance(std::chrono::nanoseconds by) { offset_ns_.fetch_add(by.count()); }

}  // namespace ward
