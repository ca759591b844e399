// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

#include "ward/common/result.h"

namespace ward::testing {

// A test site's TLS files in a directory: ca.pem/ca.key, server.pem/server.key (for 127.0.0.1).
struct TestPki {
  std::filesystem::path ca_cert;
  std::filesystem::path server_cert;
  std::filesystem::path server_key;
};
Result<TestPki> CreateTestPki(const std::filesystem::path& dir);

// An Ed25519 policy-signing key (policy/signing.h), as IT holds it, and the sample policy
// tests/testdata/policy/sample-under18.json to sign. Thread-compatible.
class PolicySigner {
 public:
  static Result<std::unique_ptr<PolicySigner>> Generate();
  ~PolicySigner();
  // Hex of the raw 32-byte public key (what `ward-collector add-group --pubkey` takes).
  const std::string& public_key_hex() const { return public_key_hex_; }
  // A serialised ward.v1.SignedPolicy: the sample policy with this version and name, signed.
  Result<std::string> SignedPolicyBytes(std::uint64_t version, const std::string& name = "test");

 private:
  struct State;
  PolicySigner() = default;
  std::unique_ptr<State> state_;
  std::string public_key_hex_;
};

// A fresh temporary directory, removed on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace ward::testing
