// SPDX-License-Identifier: Apache-2.0
// Verification of arbitrary bytes, three ways: (1) the bytes as a signed bundle; (2) if they
// parse as a SignedPolicy, its policy bytes re-signed with the trusted key; (3) the bytes
// themselves as validly signed policy bytes. (2) and (3) get past the signature, so protobuf
// parsing of the Policy, the rollback check and ValidatePolicy are fuzzed too.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include <google/protobuf/stubs/logging.h>
#include <openssl/evp.h>

#include "ward/policy/signing.h"

namespace {

// RFC 8032 test key 1: a fixed key keeps the committed seed bundles verifiable.
constexpr char kPrivatePem[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MC4CAQAwBQYDK2VwBCIEIJ1hsZ3v/VpguoRK9JLsLMREScVpezJpGXA7rAMcrn9g\n"
    "-----END PRIVATE KEY-----\n";

const ward::policy::SigningKey& Key() {
  static const auto* key = [] {
    auto parsed = ward::policy::SigningKey::FromPem(kPrivatePem);
    if (!parsed) {
      std::abort();
    }
    return new ward::policy::SigningKey(std::move(*parsed));
  }();
  return *key;
}

// A SignedPolicy over `bytes` with a good signature from Key().
ward::v1::SignedPolicy SignBytes(const std::string& bytes) {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  std::string signature(ward::policy::kEd25519SignatureBytes, '\0');
  std::size_t length = signature.size();
  if (ctx == nullptr || EVP_DigestSignInit(ctx, nullptr, nullptr, nullptr, Key().pkey()) != 1 ||
      EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(signature.data()), &length,
                     reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size()) != 1) {
    std::abort();
  }
  EVP_MD_CTX_free(ctx);
  ward::v1::SignedPolicy signed_policy;
  signed_policy.set_policy(bytes);
  signed_policy.set_signature(signature);
  signed_policy.set_key_id(Key().key_id());
  return signed_policy;
}

void VerifyGoodSignature(const std::string& policy_bytes) {
  auto policy = ward::policy::VerifySignedPolicy(SignBytes(policy_bytes), Key().public_key(), 1);
  // A good signature is never reported as a bad one.
  if (!policy && policy.error().code() == ward::ErrorCode::kUnauthenticated) {
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const bool quiet = [] {
    google::protobuf::SetLogHandler(nullptr);  // malformed input is expected here
    return true;
  }();
  (void)quiet;
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  (void)ward::policy::VerifySignedPolicyBytes(bytes, Key().public_key(), 0);

  ward::v1::SignedPolicy envelope;
  if (envelope.ParseFromArray(data, static_cast<int>(size))) {
    VerifyGoodSignature(envelope.policy());
  }
  VerifyGoodSignature(std::string(bytes));
  return 0;
}
