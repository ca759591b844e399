// SPDX-License-Identifier: Apache-2.0
#include "ward/common/random.h"

#include <array>
#include <bitset>
#include <cstdint>
#include <vector>

#include <gtest/gtest.h>

namespace ward {
namespace {

TEST(RandomTest, SystemRandomFillsLargeBuffersWithEveryByteValue) {
  std::vector<std::uint8_t> bytes(1 << 16, 0);
  SystemRandom().Fill(bytes);
  std::bitset<256> seen;
  for (std::uint8_t b : bytes) {
    seen.set(b);
  }
  // 65536 uniform bytes miss a given value with probability (255/256)^65536, about 1e-111.
  EXPECT_EQ(seen.count(), 256u);
  // The last bytes were written too (a short read would leave zeros at the end).
  std::size_t trailing_zeros = 0;
  for (auto it = bytes.rbegin(); it != bytes.rend() && *it == 0; ++it) {
    ++trailing_zeros;
  }
  EXPECT_LT(trailing_zeros, 8u);
}

TEST(RandomTest, SystemRandomDrawsDiffer) {
  std::array<std::uint64_t, 4> draws{};
  for (auto& d : draws) {
    d = SystemRandom().NextU64();
  }
  EXPECT_NE(draws[0], draws[1]);
  EXPECT_NE(draws[1], draws[2]);
  EXPECT_NE(draws[2], draws[3]);
}

TEST(RandomTest, SeededRandomRepeatsItsStream) {
  SeededRandom a(42);
  SeededRandom b(42);
  SeededRandom c(43);
  const std::uint64_t first = a.NextU64();
  EXPECT_EQ(first, b.NextU64());
  EXPECT_NE(first, c.NextU64());
  EXPECT_NE(first, a.NextU64());
}

}  // namespace
}  // namespace ward
