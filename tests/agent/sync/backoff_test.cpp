// SPDX-License-Identifier: Apache-2.0
#include "ward/agent/sync/backoff.h"

#include <gtest/gtest.h>

namespace ward::agent::sync {
namespace {

using namespace std::chrono_literals;

TEST(BackoffTest, CeilingDoublesUpToTheCap) {
  SeededRandom random(1);
  Backoff backoff(1000ms, 300'000ms, random);
  std::vector<std::int64_t> ceilings;
  for (int i = 0; i < 12; ++i) {
    (void)backoff.NextDelay();
    ceilings.push_back(backoff.CeilingForTesting().count());
  }
  EXPECT_EQ(ceilings, (std::vector<std::int64_t>{1000, 2000, 4000, 8000, 16000, 32000, 64000,
                                                 128000, 256000, 300000, 300000, 300000}));
}

TEST(BackoffTest, DelaysAreFullJitterWithinTheCeiling) {
  SeededRandom random(2);
  Backoff backoff(1000ms, 8000ms, random);
  std::set<std::int64_t> seen;
  for (int i = 0; i < 200; ++i) {
    auto delay = backoff.NextDelay();
    EXPECT_GE(delay.count(), 0);
    EXPECT_LE(delay, backoff.CeilingForTesting());
    seen.insert(delay.count());
  }
  EXPECT_GT(seen.size(), 100u) << "delays must spread, not repeat";
  EXPECT_LT(*seen.begin(), 4000) << "full jitter reaches down towards zero";
}

TEST(BackoffTest, RetryAfterIsAFloor) {
  SeededRandom random(3);
  Backoff backoff(10ms, 20ms, random);
  EXPECT_GE(backoff.NextDelay(7s), 7s);
}

TEST(BackoffTest, ResetStartsAgainFromTheBase) {
  SeededRandom random(4);
  Backoff backoff(100ms, 10'000ms, random);
  for (int i = 0; i < 10; ++i) {
    (void)backoff.NextDelay();
  }
  backoff.Reset();
  EXPECT_EQ(backoff.failures(), 0u);
  EXPECT_LE(backoff.NextDelay(), 100ms);
}

TEST(BackoffTest, ManyFailuresNeverOverflow) {
  SeededRandom random(5);
  Backoff backoff(1000ms, 300'000ms, random);
  for (int i = 0; i < 10'000; ++i) {
    EXPECT_LE(backoff.NextDelay(), 300'000ms);
  }
}

}  // namespace
}  // namespace ward::agent::sync
