// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>

#include "ward/collector/storage/storage.h"
#include "ward/common/result.h"

namespace ward::testing {

// The audit entry of a test's own reads of concerns from the store (written like a staff
// member's: the store audits every read of concerns).
inline const collector::AuditEntry kTestRead{.at_ms = 1,
                                             .staff_name = "test",
                                             .action = "concern.read",
                                             .concern_id = {},
                                             .concern_ids = {}};

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

// A TCP port on 127.0.0.1 that was free a moment ago (for a child process to listen on).
std::uint16_t FreeLoopbackPort();

// A "kB" field of /proc/<pid>/status (VmRSS, VmHWM, ...), or -1 when it cannot be read.
long ProcessStatusKb(int pid, const std::string& field);

// What a test site's store holds after SeedTestSite: an enrolment secret for the group and one
// staff token per role, by role name ("it", "dsl", "viewer", "metrics"; the staff are named
// "staff-<role>").
struct TestSite {
  std::string enrolment_secret;
  std::map<std::string, std::string> tokens;
};
// Creates `group` with this policy key, an enrolment secret for it and the three staff tokens.
Result<TestSite> SeedTestSite(collector::Storage& store, const std::string& group,
                              const std::string& public_key_hex);

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
