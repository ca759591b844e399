// SPDX-License-Identifier: Apache-2.0
#include "ward/agent/ipc/rate_limiter.h"

#include <gtest/gtest.h>

namespace ward::agent::ipc {
namespace {

using std::chrono::seconds;

TEST(RateLimiterTest, AllowsBurstThenSaysHowLongToWait) {
  ManualClock clock;
  RateLimiter limiter(clock, {.burst = 2, .refill_every = seconds(120)});
  EXPECT_EQ(limiter.TryAcquire("1000"), 0u);
  EXPECT_EQ(limiter.TryAcquire("1000"), 0u);
  EXPECT_EQ(limiter.TryAcquire("1000"), 120u);
  clock.Advance(seconds(30));
  EXPECT_EQ(limiter.TryAcquire("1000"), 90u);
}

TEST(RateLimiterTest, RefillsOverTime) {
  ManualClock clock;
  RateLimiter limiter(clock, {.burst = 1, .refill_every = seconds(60)});
  EXPECT_EQ(limiter.TryAcquire("1000"), 0u);
  EXPECT_GT(limiter.TryAcquire("1000"), 0u);
  clock.Advance(seconds(60));
  EXPECT_EQ(limiter.TryAcquire("1000"), 0u);
}

TEST(RateLimiterTest, KeepsUsersApart) {
  ManualClock clock;
  RateLimiter limiter(clock, {.burst = 1, .refill_every = seconds(60)});
  EXPECT_EQ(limiter.TryAcquire("1000"), 0u);
  EXPECT_GT(limiter.TryAcquire("1000"), 0u);
  EXPECT_EQ(limiter.TryAcquire("1001"), 0u);
}

TEST(RateLimiterTest, RefillNeverExceedsBurst) {
  ManualClock clock;
  RateLimiter limiter(clock, {.burst = 2, .refill_every = seconds(10)});
  EXPECT_EQ(limiter.TryAcquire("7"), 0u);
  clock.Advance(seconds(3600));
  EXPECT_EQ(limiter.TryAcquire("7"), 0u);
  EXPECT_EQ(limiter.TryAcquire("7"), 0u);
  EXPECT_GT(limiter.TryAcquire("7"), 0u);
}

}  // namespace
}  // namespace ward::agent::ipc
