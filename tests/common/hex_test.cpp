// SPDX-License-Identifier: Apache-2.0
#include "ward/common/hex.h"

#include <gtest/gtest.h>

namespace ward {
namespace {

TEST(HexTest, RoundTrips) {
  std::vector<std::uint8_t> bytes = {0x00, 0x0f, 0xa5, 0xff};
  EXPECT_EQ(HexEncode(bytes), "000fa5ff");
  auto back = HexDecode("000FA5ff");
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(*back, bytes);
}

TEST(HexTest, RejectsOddLength) {
  auto r = HexDecode("abc");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), ErrorCode::kInvalidArgument);
}

TEST(HexTest, RejectsNonHexDigitWithOffset) {
  auto r = HexDecode("00zz");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().message(), "not a hex digit at offset 2");
}

TEST(HexTest, DecodesIntoAFixedBufferOrRefuses) {
  std::uint8_t out[2] = {};
  ASSERT_TRUE(HexDecodeInto("0aFf", out));
  EXPECT_EQ(out[0], 0x0a);
  EXPECT_EQ(out[1], 0xff);
  EXPECT_FALSE(HexDecodeInto("0a", out));      // too short for the buffer
  EXPECT_FALSE(HexDecodeInto("0aff00", out));  // too long
  EXPECT_FALSE(HexDecodeInto("0azz", out));
}

}  // namespace
}  // namespace ward
