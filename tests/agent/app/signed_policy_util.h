// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "ward/policy/loader.h"
#include "ward/policy/signing.h"
#include "ward/testing/paths.h"
#include "ward/testing/temp_dir.h"

namespace ward::app::testing {

inline std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

inline void WriteFile(const std::filesystem::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
}

// The test data's under-18 policy (AUP version 3, contacts), at `version`.
inline v1::Policy SamplePolicy(std::uint64_t version) {
  auto policy = policy::LoadPolicyJson(
      ReadFile(ward::testing::TestdataDir().string() + "/policy/sample-under18.json"));
  EXPECT_TRUE(policy.has_value()) << policy.error().ToString();
  policy->set_version(version);
  return *policy;
}

// A temporary directory (0755: a test child running as another uid can reach a socket inside)
// with a fresh signing key, its public half in policy.pub, removed on destruction.
class SignedPolicyDir {
 public:
  SignedPolicyDir() : key_(*policy::SigningKey::Generate()) {
    ::chmod(dir_.path().c_str(), 0755);
    EXPECT_TRUE(key_.public_key().WriteFile(pubkey()).has_value());
  }

  const std::filesystem::path& dir() const { return dir_.path(); }
  std::filesystem::path pubkey() const { return dir() / "policy.pub"; }
  std::filesystem::path bundle() const { return dir() / "policy.bundle"; }

  // The serialised SignedPolicy of SamplePolicy(version).
  std::string Bundle(std::uint64_t version) const {
    auto signed_policy = policy::SignPolicy(SamplePolicy(version), key_);
    EXPECT_TRUE(signed_policy.has_value()) << signed_policy.error().ToString();
    return signed_policy->SerializeAsString();
  }
  void WriteBundle(std::uint64_t version) const { WriteFile(bundle(), Bundle(version)); }

 private:
  ward::testing::TempDir dir_;
  policy::SigningKey key_;
};

}  // namespace ward::app::testing
