// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "ward/common/result.h"

namespace ward::collector::internal {

struct VerifiedPolicy {
  std::uint64_t version = 0;
  std::string name;
};

// Checks a serialised ward.v1.SignedPolicy before it may reach the fleet: it parses, its
// Ed25519 signature over the policy bytes verifies with the group's public key (hex of the raw
// 32 bytes), and the policy inside parses and has a version. kInvalidArgument otherwise.
// TODO(collector, #4): use policy/signing.h once the policy-tools branch lands.
Result<VerifiedPolicy> VerifySignedPolicy(std::string_view signed_policy,
                                          std::string_view public_key_hex);

}  // namespace ward::collector::internal
