// SPDX-License-Identifier: Apache-2.0
#include "ward/common/uuid.h"

#include <set>
#include <thread>

#include <gtest/gtest.h>

namespace ward {
namespace {

TEST(UuidTest, V7CarriesTimeVersionAndVariant) {
  ManualClock clock(
      std::chrono::system_clock::time_point(std::chrono::milliseconds(1'733'000'000'123)));
  SeededRandom random(7);
  UuidV7Generator gen(clock, random);
  Uuid id = gen.Next();
  EXPECT_EQ(id.version(), 7);
  EXPECT_EQ(id.bytes()[8] & 0xc0, 0x80);
  EXPECT_EQ(id.UnixMillis(), 1'733'000'000'123u);
}

TEST(UuidTest, V7IdsStrictlyIncreaseWithinOneMillisecond) {
  ManualClock clock;
  SeededRandom random(1);
  UuidV7Generator gen(clock, random);
  Uuid prev = gen.Next();
  for (int i = 0; i < 10'000; ++i) {  // far more than the 12-bit counter holds
    Uuid next = gen.Next();
    ASSERT_LT(prev, next) << "at " << i;
    prev = next;
  }
}

TEST(UuidTest, V7IsUniqueAcrossThreads) {
  SeededRandom random(3);
  UuidV7Generator gen(SystemClock(), random);
  std::vector<std::vector<Uuid>> per_thread(4);
  std::vector<std::thread> threads;
  for (auto& out : per_thread) {
    threads.emplace_back([&gen, &out] {
      for (int i = 0; i < 5000; ++i) {
        out.push_back(gen.Next());
      }
    });
  }
  for (auto& t : threads) {
    t.join();
  }
  std::set<Uuid> all;
  for (auto& v : per_thread) {
    all.insert(v.begin(), v.end());
  }
  EXPECT_EQ(all.size(), 20'000u);
}

TEST(UuidTest, ParseRoundTripsCanonicalText) {
  auto id = Uuid::Parse("0190B6E4-7C1A-7B3E-9F00-1C2D3E4F5A6B");
  ASSERT_TRUE(id.has_value());
  EXPECT_EQ(id->ToString(), "0190b6e4-7c1a-7b3e-9f00-1c2d3e4f5a6b");
}

TEST(UuidTest, ParseRejectsMalformedText) {
  EXPECT_FALSE(Uuid::Parse("").has_value());
  EXPECT_FALSE(Uuid::Parse("0190b6e47c1a7b3e9f001c2d3e4f5a6b").has_value());
  EXPECT_FALSE(Uuid::Parse("0190b6e4-7c1a-7b3e-9f00-1c2d3e4f5a6g").has_value());
}

}  // namespace
}  // namespace ward
