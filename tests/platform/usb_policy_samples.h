// SPDX-License-Identifier: Apache-2.0
// The sample policies and their golden USB registry files, for the portable golden test, the
// Windows read-back test and the benchmark.
#pragma once

#include <filesystem>
#include <string>

#include "registry_golden.h"
#include "ward/policy/loader.h"

namespace ward::platform {

inline Result<v1::Policy> SamplePolicy(const std::string& name) {
  return policy::LoadPolicyJson(
      ReadText(ward::testing::TestdataDir() / "policy" / (name + ".json")));
}

inline std::filesystem::path UsbGoldenPath(const std::string& name) {
  return ward::testing::TestdataDir() / "usb" / "windows" / (name + ".reg");
}

}  // namespace ward::platform
