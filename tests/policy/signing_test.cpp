// SPDX-License-Identifier: Apache-2.0
#include "ward/policy/signing.h"

#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <openssl/evp.h>

#include "ward/common/hex.h"

namespace ward::policy {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

// RFC 8032 section 7.1, test 1: secret key, public key, and the signature of the empty message.
constexpr char kRfcPrivatePem[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MC4CAQAwBQYDK2VwBCIEIJ1hsZ3v/VpguoRK9JLsLMREScVpezJpGXA7rAMcrn9g\n"
    "-----END PRIVATE KEY-----\n";
constexpr char kRfcPublicPem[] =
    "-----BEGIN PUBLIC KEY-----\n"
    "MCowBQYDK2VwAyEA11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=\n"
    "-----END PUBLIC KEY-----\n";
constexpr char kRfcPublicHex[] = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";
constexpr char kRfcEmptySignatureHex[] =
    "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf"
    "9b46bd25bf5f0595bbe24655141438e7a100b";
// First 16 hex digits of SHA-256 over the 32 raw public key bytes (computed with Python's
// hashlib, independently of this code).
constexpr char kRfcKeyId[] = "21fe31dfa154a261";

constexpr char kP256PublicPem[] =
    "-----BEGIN PUBLIC KEY-----\n"
    "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE0YcjyNZ1BzxN9hegDHZWZYcmKIqg\n"
    "c9XMKlWEi/76f3zbZffWjKtiacFYpAc50IeJhuQMUhLE9rK9Y042ZN1UjA==\n"
    "-----END PUBLIC KEY-----\n";
constexpr char kEncryptedPrivatePem[] =
    "-----BEGIN ENCRYPTED PRIVATE KEY-----\n"
    "MIGbMFcGCSqGSIb3DQEFDTBKMCkGCSqGSIb3DQEFDDAcBAg+fX6rO/LNqgICCAAw\n"
    "DAYIKoZIhvcNAgkFADAdBglghkgBZQMEAQIEEE8NrR/ZggPe1WiP7W+VpdgEQOr1\n"
    "VYdv2wP+7Mp+1vYCs4C25UbIpVRz7tCyZUQjj9qMb3eH9BciZR+xGJAmHkHd+qln\n"
    "M3WHdV8M5xAFyznXrAs=\n"
    "-----END ENCRYPTED PRIVATE KEY-----\n";

std::string Unhex(std::string_view hex) {
  auto bytes = HexDecode(hex);
  return bytes ? std::string(bytes->begin(), bytes->end()) : std::string();
}

// A small policy that passes validation.
v1::Policy SamplePolicy(std::uint64_t version) {
  v1::Policy policy;
  policy.set_version(version);
  policy.set_name("Learners under 18");
  policy.set_mode(v1::MODE_ENFORCE);
  policy.set_audience(v1::AUDIENCE_UNDER_18);
  policy.mutable_issued_at()->set_seconds(1790000000);
  v1::UsbPolicy& usb = *policy.mutable_usb();
  usb.set_default_action(v1::USB_ACTION_BLOCK);
  v1::UsbRule& rule = *usb.add_rules();
  rule.set_id("college-sticks");
  rule.set_action(v1::USB_ACTION_ALLOW);
  rule.mutable_device_id()->add_values("0781:5581");
  rule.set_message("College memory sticks work here.");
  v1::AppRule& app = *policy.mutable_apps()->add_rules();
  app.set_id("no-steam");
  app.set_action(v1::APP_ACTION_BLOCK);
  app.set_package("steam");
  policy.mutable_contacts()->set_dsl_name("Ms Patel");
  policy.mutable_aup()->set_version(1);
  policy.mutable_aup()->set_title("Using your college laptop");
  policy.mutable_aup()->set_text_under_18("This laptop is for your studies. Please look after it.");
  return policy;
}

SigningKey NewKey() {
  auto key = SigningKey::Generate();
  EXPECT_TRUE(key.has_value()) << (key ? "" : key.error().ToString());
  return std::move(*key);
}

// Signs arbitrary bytes the way SignPolicy does, to build bundles SignPolicy would refuse.
v1::SignedPolicy SignRawBytes(const std::string& bytes, const SigningKey& key) {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  std::string signature(kEd25519SignatureBytes, '\0');
  std::size_t length = signature.size();
  EXPECT_EQ(EVP_DigestSignInit(ctx, nullptr, nullptr, nullptr, key.pkey()), 1);
  EXPECT_EQ(EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(signature.data()), &length,
                           reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size()),
            1);
  EVP_MD_CTX_free(ctx);
  v1::SignedPolicy signed_policy;
  signed_policy.set_policy(bytes);
  signed_policy.set_signature(signature);
  signed_policy.set_key_id(key.key_id());
  return signed_policy;
}

TEST(SigningTest, KeyIdIsSha256PrefixOfTheRawPublicKey) {
  auto key = PublicKey::FromPem(kRfcPublicPem);
  ASSERT_TRUE(key.has_value()) << key.error().ToString();
  EXPECT_EQ(key->key_id(), kRfcKeyId);
  EXPECT_EQ(HexEncode(key->raw()), kRfcPublicHex);
  auto private_key = SigningKey::FromPem(kRfcPrivatePem);
  ASSERT_TRUE(private_key.has_value()) << private_key.error().ToString();
  EXPECT_EQ(private_key->key_id(), kRfcKeyId);
}

TEST(SigningTest, AcceptsTheRfc8032SignatureOfTheEmptyMessage) {
  auto key = PublicKey::FromPem(kRfcPublicPem);
  ASSERT_TRUE(key.has_value());
  v1::SignedPolicy signed_policy;  // empty bytes: a Policy with every field unset
  signed_policy.set_signature(Unhex(kRfcEmptySignatureHex));
  signed_policy.set_key_id(kRfcKeyId);
  // The signature is good, so verification gets as far as the (zero) version.
  auto policy = VerifySignedPolicy(signed_policy, *key, 0);
  ASSERT_FALSE(policy.has_value());
  EXPECT_EQ(policy.error().code(), ErrorCode::kFailedPrecondition) << policy.error().ToString();
}

TEST(SigningTest, GeneratedKeysDifferAndHaveSixteenHexDigitIds) {
  const SigningKey a = NewKey();
  const SigningKey b = NewKey();
  EXPECT_NE(a.key_id(), b.key_id());
  EXPECT_EQ(a.key_id().size(), 16u);
  EXPECT_TRUE(HexDecode(a.key_id()).has_value());
  EXPECT_EQ(a.key_id(), KeyIdOf(a.public_key().raw()));
}

TEST(SigningTest, PemRoundTripsKeepTheKey) {
  const SigningKey key = NewKey();
  auto pem = key.ToPem();
  ASSERT_TRUE(pem.has_value());
  EXPECT_THAT(*pem, StartsWith("-----BEGIN PRIVATE KEY-----\n"));
  auto again = SigningKey::FromPem(*pem);
  ASSERT_TRUE(again.has_value()) << again.error().ToString();
  EXPECT_EQ(again->key_id(), key.key_id());

  auto public_pem = key.public_key().ToPem();
  ASSERT_TRUE(public_pem.has_value());
  EXPECT_THAT(*public_pem, StartsWith("-----BEGIN PUBLIC KEY-----\n"));
  auto public_again = PublicKey::FromPem(*public_pem);
  ASSERT_TRUE(public_again.has_value());
  EXPECT_EQ(public_again->raw(), key.public_key().raw());
}

TEST(SigningTest, RejectsKeysThatAreNotEd25519) {
  auto p256 = PublicKey::FromPem(kP256PublicPem);
  ASSERT_FALSE(p256.has_value());
  EXPECT_EQ(p256.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_THAT(p256.error().message(), HasSubstr("not Ed25519"));

  auto garbage = PublicKey::FromPem("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n");
  ASSERT_FALSE(garbage.has_value());
  EXPECT_THAT(garbage.error().message(), HasSubstr("not a public key PEM"));
  // A private key is not a public key, and the other way round.
  EXPECT_FALSE(PublicKey::FromPem(kRfcPrivatePem).has_value());
  auto swapped = SigningKey::FromPem(kRfcPublicPem);
  ASSERT_FALSE(swapped.has_value());
  EXPECT_THAT(swapped.error().message(), HasSubstr("not a private key PEM"));
  EXPECT_FALSE(SigningKey::FromPem(std::string(kMaxKeyFileBytes + 1, 'A')).has_value());
}

TEST(SigningTest, RefusesEncryptedPrivateKeysWithoutPrompting) {
  auto key = SigningKey::FromPem(kEncryptedPrivatePem);
  ASSERT_FALSE(key.has_value());
  EXPECT_EQ(key.error().code(), ErrorCode::kUnsupported);
}

TEST(SigningTest, SignThenVerifyReturnsThePolicy) {
  const SigningKey key = NewKey();
  const v1::Policy policy = SamplePolicy(7);
  auto signed_policy = SignPolicy(policy, key);
  ASSERT_TRUE(signed_policy.has_value()) << signed_policy.error().ToString();
  EXPECT_EQ(signed_policy->key_id(), key.key_id());
  EXPECT_EQ(signed_policy->signature().size(), kEd25519SignatureBytes);

  auto verified = VerifySignedPolicy(*signed_policy, key.public_key(), 6);
  ASSERT_TRUE(verified.has_value()) << verified.error().ToString();
  EXPECT_EQ(verified->SerializeAsString(), policy.SerializeAsString());

  auto from_bytes =
      VerifySignedPolicyBytes(signed_policy->SerializeAsString(), key.public_key(), 0);
  ASSERT_TRUE(from_bytes.has_value()) << from_bytes.error().ToString();
  EXPECT_EQ(from_bytes->name(), "Learners under 18");
}

TEST(SigningTest, SigningIsDeterministic) {
  const SigningKey key = NewKey();
  auto a = SignPolicy(SamplePolicy(3), key);
  auto b = SignPolicy(SamplePolicy(3), key);
  ASSERT_TRUE(a.has_value() && b.has_value());
  EXPECT_EQ(a->policy(), b->policy());
  EXPECT_EQ(a->signature(), b->signature());
  EXPECT_EQ(*SerializePolicyForSigning(SamplePolicy(3)), a->policy());
}

TEST(SigningTest, RejectsAWrongKeyId) {
  const SigningKey signer = NewKey();
  const SigningKey trusted = NewKey();
  auto signed_policy = SignPolicy(SamplePolicy(2), signer);
  ASSERT_TRUE(signed_policy.has_value());
  auto verified = VerifySignedPolicy(*signed_policy, trusted.public_key(), 0);
  ASSERT_FALSE(verified.has_value());
  EXPECT_EQ(verified.error().code(), ErrorCode::kUnauthenticated);
  EXPECT_EQ(verified.error().message(), "the policy was signed with key '" + signer.key_id() +
                                            "', but the trusted key is '" + trusted.key_id() + "'");
}

TEST(SigningTest, NeverEchoesAMalformedKeyId) {
  const SigningKey key = NewKey();
  auto signed_policy = SignPolicy(SamplePolicy(2), key);
  ASSERT_TRUE(signed_policy.has_value());
  signed_policy->set_key_id("\x1b[2Jevil\nline");
  auto verified = VerifySignedPolicy(*signed_policy, key.public_key(), 0);
  ASSERT_FALSE(verified.has_value());
  EXPECT_EQ(verified.error().code(), ErrorCode::kUnauthenticated);
  EXPECT_EQ(verified.error().message(),
            "the policy carries a malformed key id, but the trusted "
            "key is '" +
                key.key_id() + "'");
}

TEST(SigningTest, RejectsASignatureFromAnotherKeyUnderTheTrustedKeyId) {
  const SigningKey attacker = NewKey();
  const SigningKey trusted = NewKey();
  auto signed_policy = SignPolicy(SamplePolicy(2), attacker);
  ASSERT_TRUE(signed_policy.has_value());
  signed_policy->set_key_id(trusted.key_id());
  auto verified = VerifySignedPolicy(*signed_policy, trusted.public_key(), 0);
  ASSERT_FALSE(verified.has_value());
  EXPECT_EQ(verified.error().code(), ErrorCode::kUnauthenticated);
  EXPECT_THAT(verified.error().message(), HasSubstr("the signature does not match the policy"));
}

TEST(SigningTest, RejectsAnyChangedByte) {
  const SigningKey key = NewKey();
  auto signed_policy = SignPolicy(SamplePolicy(9), key);
  ASSERT_TRUE(signed_policy.has_value());
  const std::string bytes = signed_policy->policy();
  ASSERT_GT(bytes.size(), 50u);
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    v1::SignedPolicy tampered = *signed_policy;
    (*tampered.mutable_policy())[i] = static_cast<char>(bytes[i] ^ 0x01);
    auto verified = VerifySignedPolicy(tampered, key.public_key(), 0);
    ASSERT_FALSE(verified.has_value()) << "byte " << i;
    EXPECT_EQ(verified.error().code(), ErrorCode::kUnauthenticated) << "byte " << i;
  }
  for (std::size_t i = 0; i < kEd25519SignatureBytes; ++i) {
    v1::SignedPolicy tampered = *signed_policy;
    (*tampered.mutable_signature())[i] ^= 0x40;
    EXPECT_EQ(VerifySignedPolicy(tampered, key.public_key(), 0).error().code(),
              ErrorCode::kUnauthenticated)
        << "signature byte " << i;
  }
  v1::SignedPolicy appended = *signed_policy;
  appended.mutable_policy()->push_back('\0');
  EXPECT_EQ(VerifySignedPolicy(appended, key.public_key(), 0).error().code(),
            ErrorCode::kUnauthenticated);
  v1::SignedPolicy truncated = *signed_policy;
  truncated.mutable_signature()->pop_back();
  auto short_signature = VerifySignedPolicy(truncated, key.public_key(), 0);
  ASSERT_FALSE(short_signature.has_value());
  EXPECT_EQ(short_signature.error().message(),
            "the signature is 63 bytes; an Ed25519 signature is 64");
}

TEST(SigningTest, RejectsSignedBytesThatAreNotAPolicy) {
  const SigningKey key = NewKey();
  // Field 4 (name) claims 5 bytes but only 2 follow: a valid signature over an invalid Policy.
  const v1::SignedPolicy signed_policy = SignRawBytes(std::string("\x08\x07\x22\x05"
                                                                  "ab",
                                                                  6),
                                                      key);
  auto verified = VerifySignedPolicy(signed_policy, key.public_key(), 0);
  ASSERT_FALSE(verified.has_value());
  EXPECT_EQ(verified.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(verified.error().message(), "the signed bytes are not a ward.v1.Policy");
}

TEST(SigningTest, RejectsRollbackToTheSameOrAnOlderVersion) {
  const SigningKey key = NewKey();
  auto signed_policy = SignPolicy(SamplePolicy(5), key);
  ASSERT_TRUE(signed_policy.has_value());
  for (std::uint64_t in_force : {5u, 6u, 1000u}) {
    auto verified = VerifySignedPolicy(*signed_policy, key.public_key(), in_force);
    ASSERT_FALSE(verified.has_value());
    EXPECT_EQ(verified.error().code(), ErrorCode::kFailedPrecondition);
    EXPECT_EQ(verified.error().message(), "rollback: policy version 5 is not newer than version " +
                                              std::to_string(in_force) + " in force");
  }
  EXPECT_TRUE(VerifySignedPolicy(*signed_policy, key.public_key(), 4).has_value());
}

TEST(SigningTest, RejectsBundlesThatAreNotSignedPolicies) {
  const SigningKey key = NewKey();
  auto garbage = VerifySignedPolicyBytes("\xff\xff\xff\xff", key.public_key(), 0);
  ASSERT_FALSE(garbage.has_value());
  EXPECT_EQ(garbage.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(garbage.error().message(), "not a signed policy bundle (ward.v1.SignedPolicy)");

  const std::string huge(kMaxBundleBytes + 1, '\0');
  auto too_big = VerifySignedPolicyBytes(huge, key.public_key(), 0);
  ASSERT_FALSE(too_big.has_value());
  EXPECT_THAT(too_big.error().message(), HasSubstr("at most 33554432 are accepted"));

  // An empty bundle parses as an empty SignedPolicy: no key id.
  EXPECT_EQ(VerifySignedPolicyBytes("", key.public_key(), 0).error().code(),
            ErrorCode::kUnauthenticated);
}

TEST(SigningTest, RefusesToSignAPolicyThatFailsValidation) {
  const SigningKey key = NewKey();
  v1::Policy policy = SamplePolicy(4);
  policy.set_mode(v1::MODE_UNSPECIFIED);
  policy.mutable_usb()->mutable_rules(0)->mutable_device_id()->set_values(0, "12G4:0001");
  auto signed_policy = SignPolicy(policy, key);
  ASSERT_FALSE(signed_policy.has_value());
  EXPECT_EQ(signed_policy.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_THAT(signed_policy.error().message(),
              StartsWith("not signing a policy that agents would reject: mode: "));
  EXPECT_THAT(signed_policy.error().message(),
              HasSubstr("; usb.rules[0].device_id: \"12G4:0001\" is not vvvv:pppp"));
  EXPECT_EQ(signed_policy.error().message().find('\n'), std::string::npos);
}

TEST(SigningTest, RejectsAProperlySignedPolicyThatFailsValidation) {
  const SigningKey key = NewKey();
  v1::Policy policy = SamplePolicy(4);
  policy.mutable_usb()->mutable_rules(0)->set_id("");  // every rule needs an id
  const v1::SignedPolicy signed_policy = SignRawBytes(*SerializePolicyForSigning(policy), key);
  auto verified = VerifySignedPolicy(signed_policy, key.public_key(), 0);
  ASSERT_FALSE(verified.has_value());
  EXPECT_EQ(verified.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(verified.error().message(),
            "the signed policy is not valid: usb.rules[0].id: missing: every rule needs an id, "
            "unique in the policy");
}

}  // namespace
}  // namespace ward::policy
