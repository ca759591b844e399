// SPDX-License-Identifier: Apache-2.0
#include "internal/policy_verify.h"

#include <openssl/evp.h>

#include <memory>

#include "ward/common/hex.h"
#include "ward/v1/policy.pb.h"

namespace ward::collector::internal {

Result<VerifiedPolicy> VerifySignedPolicy(std::string_view signed_policy,
                                          std::string_view public_key_hex) {
  ward::v1::SignedPolicy sp;
  if (!sp.ParseFromArray(signed_policy.data(), static_cast<int>(signed_policy.size()))) {
    return InvalidArgumentError("the body is not a ward.v1.SignedPolicy");
  }
  auto key = HexDecode(public_key_hex);
  if (!key.has_value() || key->size() != 32) {
    return InvalidArgumentError("the group's public key is not 32 bytes of hex");
  }
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> pkey(
      EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, key->data(), key->size()),
      &EVP_PKEY_free);
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  if (!pkey || !ctx ||
      EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, pkey.get()) != 1) {
    return InternalError("cannot set up Ed25519 verification");
  }
  const auto* sig = reinterpret_cast<const unsigned char*>(sp.signature().data());
  const auto* msg = reinterpret_cast<const unsigned char*>(sp.policy().data());
  if (EVP_DigestVerify(ctx.get(), sig, sp.signature().size(), msg, sp.policy().size()) != 1) {
    return InvalidArgumentError(
        "the policy's signature does not verify with this group's public key (signed with "
        "another key, or changed after signing)");
  }
  ward::v1::Policy policy;
  if (!policy.ParseFromString(sp.policy())) {
    return InvalidArgumentError("the signed bytes are not a ward.v1.Policy");
  }
  if (policy.version() == 0) {
    return InvalidArgumentError("the policy has no version");
  }
  return VerifiedPolicy{policy.version(), policy.name()};
}

}  // namespace ward::collector::internal
