// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "ward/policy/loader.h"
#include "ward/testing/paths.h"

namespace ward::policy::testing {

// A small valid policy (adults, ENFORCE) that tests extend; `extra` is spliced in as further
// top-level fields (",\"usb\": {...}").
inline std::string MinimalPolicyJson(const std::string& extra = "",
                                     const std::string& mode = "MODE_ENFORCE") {
  return R"({"version": 1, "mode": ")" + mode + R"(", "audience": "AUDIENCE_ADULT",
             "aup": {"version": 1, "text_adult": "Use this laptop for your course."})" +
         extra + "}";
}

inline std::string ReadTestdata(const std::string& relative) {
  std::ifstream in(ward::testing::TestdataDir().string() + "/" + relative, std::ios::binary);
  EXPECT_TRUE(in.good()) << relative;
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// Loads JSON that must be valid.
inline ward::v1::Policy MustLoad(const std::string& json) {
  auto policy = LoadPolicyJson(json);
  EXPECT_TRUE(policy.has_value()) << (policy ? "" : policy.error().message());
  return policy ? *policy : ward::v1::Policy{};
}

// The error message of JSON that must be rejected.
inline std::string LoadError(const std::string& json) {
  auto policy = LoadPolicyJson(json);
  EXPECT_FALSE(policy.has_value());
  if (policy) {
    return "";
  }
  EXPECT_EQ(policy.error().code(), ErrorCode::kInvalidArgument);
  return policy.error().message();
}

// Creates an evaluator (UsbEvaluator, AppEvaluator) for a policy that must be valid.
template <typename Evaluator>
std::unique_ptr<Evaluator> MustCreate(const std::string& json) {
  auto evaluator = Evaluator::Create(MustLoad(json));
  EXPECT_TRUE(evaluator.has_value()) << (evaluator ? "" : evaluator.error().message());
  return evaluator ? std::move(*evaluator) : nullptr;
}

}  // namespace ward::policy::testing
