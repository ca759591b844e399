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

// Checks a serialised ward.v1.SignedPolicy before it may reach the fleet, with policy/signing.h:
// key id and Ed25519 signature match the group's public key (hex of the raw 32 bytes), and the
// policy inside is valid. kInvalidArgument (with the verifier's reason) otherwise.
Result<VerifiedPolicy> VerifySignedPolicy(std::string_view signed_policy,
                                          std::string_view public_key_hex);

}  // namespace ward::collector::internal
