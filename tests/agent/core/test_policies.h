// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <string>

#include <gtest/gtest.h>

#include "ward/core/active_policy.h"
#include "ward/policy/loader.h"

namespace ward::testing {

// Compiles a policy from JSON; a test failure if it does not load.
inline std::shared_ptr<const core::ActivePolicy> CompilePolicy(const std::string& json) {
  auto policy = policy::LoadPolicyJson(json);
  EXPECT_TRUE(policy.has_value()) << policy.error().ToString();
  if (!policy.has_value()) {
    return nullptr;
  }
  auto active = core::ActivePolicy::Compile(*std::move(policy));
  EXPECT_TRUE(active.has_value()) << active.error().ToString();
  return active.has_value() ? *active : nullptr;
}

// A policy with the given mode, USB part and apps part (JSON object bodies).
inline std::string PolicyJson(const std::string& mode, const std::string& usb,
                              const std::string& apps, int version = 1) {
  return R"({"version": )" + std::to_string(version) +
         R"(, "issued_at": "2026-09-01T08:00:00Z", "mode": ")" + mode +
         R"(", "name": "test", "audience": "AUDIENCE_ADULT",
  "aup": {"version": 1, "title": "Using this laptop", "text_adult": "Be kind and safe."},
  "usb": )" +
         usb + R"(, "apps": )" + apps + "}";
}

}  // namespace ward::testing
