// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <utility>

#include <gtest/gtest.h>

#include "ward/policy/signing.h"

namespace ward::policy::testing {

inline SigningKey NewKey() {
  auto key = SigningKey::Generate();
  EXPECT_TRUE(key.has_value()) << (key ? "" : key.error().ToString());
  return std::move(*key);
}

}  // namespace ward::policy::testing
