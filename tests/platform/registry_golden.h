// SPDX-License-Identifier: Apache-2.0
// The sample policies' settings plans and their golden registry files, for the portable golden
// test and the Windows read-back test.
#pragma once

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "ward/policy/loader.h"
#include "ward/policy/settings_plan.h"
#include "ward/testing/paths.h"

namespace ward::platform {

inline std::string ReadText(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// tests/testdata/policy/<name>.json compiled into its settings plan.
inline Result<policy::SettingsPlan> SamplePolicyPlan(const std::string& name) {
  WARD_ASSIGN_OR_RETURN(
      const v1::Policy policy,
      policy::LoadPolicyJson(ReadText(ward::testing::TestdataDir() / "policy" / (name + ".json"))));
  return policy::CompileSettingsPlan(policy.settings());
}

inline std::filesystem::path RegistryGoldenPath(const std::string& name) {
  return ward::testing::TestdataDir() / "settings" / "windows" / (name + ".reg");
}

}  // namespace ward::platform
