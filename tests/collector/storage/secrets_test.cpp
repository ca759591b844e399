// SPDX-License-Identifier: Apache-2.0
#include "ward/collector/storage/secrets.h"

#include <gtest/gtest.h>

namespace ward::collector {
namespace {

TEST(SecretsTest, NewSecretsAreLongAndDistinct) {
  const std::string a = NewSecret("wst_");
  const std::string b = NewSecret("wst_");
  EXPECT_EQ(a.size(), 4u + 64u);
  EXPECT_TRUE(a.starts_with("wst_"));
  EXPECT_NE(a, b);
}

TEST(SecretsTest, HashIsSha256Hex) {
  // SHA-256("abc") from FIPS 180-2.
  EXPECT_EQ(HashSecret("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(SecretsTest, ConstantTimeEqualsComparesContentAndLength) {
  EXPECT_TRUE(ConstantTimeEquals("abcd", "abcd"));
  EXPECT_FALSE(ConstantTimeEquals("abcd", "abce"));
  EXPECT_FALSE(ConstantTimeEquals("abcd", "abc"));
}

}  // namespace
}  // namespace ward::collector
