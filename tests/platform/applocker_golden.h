// SPDX-License-Identifier: Apache-2.0
// The sample policies' application rules and the golden files of their AppLocker registry state
// (tests/testdata/applocker/<name>.reg), for the portable golden test and the Windows read-back
// test.
#pragma once

#include <filesystem>
#include <string>

#include "registry_golden.h"
#include "ward/policy/loader.h"
#include "ward/testing/paths.h"

namespace ward::platform {

// tests/testdata/applocker/<name>.json, or else tests/testdata/policy/<name>.json.
inline Result<v1::Policy> AppLockerSamplePolicy(const std::string& name) {
  std::filesystem::path path = ward::testing::TestdataDir() / "applocker" / (name + ".json");
  if (!std::filesystem::exists(path)) {
    path = ward::testing::TestdataDir() / "policy" / (name + ".json");
  }
  return policy::LoadPolicyJson(ReadText(path));
}

inline std::filesystem::path AppLockerGoldenPath(const std::string& name) {
  return ward::testing::TestdataDir() / "applocker" / (name + ".reg");
}

}  // namespace ward::platform
