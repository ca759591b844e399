// SPDX-License-Identifier: Apache-2.0
#include "internal/policy_verify.h"

#include <array>

#include "ward/common/hex.h"
#include "ward/policy/signing.h"

namespace ward::collector::internal {

Result<VerifiedPolicy> VerifySignedPolicy(std::string_view signed_policy,
                                          std::string_view public_key_hex) {
  auto raw = HexDecode(public_key_hex);
  if (!raw.has_value() || raw->size() != policy::kEd25519PublicKeyBytes) {
    return InternalError("the group's stored public key is not 32 bytes of hex");
  }
  std::array<std::uint8_t, policy::kEd25519PublicKeyBytes> key{};
  std::copy(raw->begin(), raw->end(), key.begin());
  WARD_ASSIGN_OR_RETURN(policy::PublicKey public_key, policy::PublicKey::FromRaw(key));
  // Version 0 here: the store refuses versions that are not newer, atomically with the insert.
  auto verified = policy::VerifySignedPolicyBytes(signed_policy, public_key, 0);
  if (!verified.has_value()) {
    // A bad signature is bad input from the pusher, not a failed login: 400, with the reason.
    return InvalidArgumentError("policy refused: " + verified.error().message());
  }
  return VerifiedPolicy{verified->version(), verified->name()};
}

}  // namespace ward::collector::internal
