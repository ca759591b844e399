// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "ward/common/result.h"
#include "ward/v1/policy.pb.h"

// OpenSSL's EVP_PKEY, declared here so this header needs no OpenSSL include.
struct evp_pkey_st;

namespace ward::policy {

namespace internal {
struct PkeyFree {
  void operator()(evp_pkey_st* key) const;
};
using UniquePkey = std::unique_ptr<evp_pkey_st, PkeyFree>;
}  // namespace internal

inline constexpr std::size_t kEd25519PublicKeyBytes = 32;
inline constexpr std::size_t kEd25519SignatureBytes = 64;
// Largest signed bundle (or PEM key file) accepted, so hostile input cannot exhaust memory.
inline constexpr std::size_t kMaxBundleBytes = std::size_t{32} << 20;
inline constexpr std::size_t kMaxKeyFileBytes = std::size_t{16} << 10;

// The id of a key: the first 16 hex digits (lower case) of SHA-256 of the raw 32-byte key.
std::string KeyIdOf(const std::array<std::uint8_t, kEd25519PublicKeyBytes>& raw_public_key);

// An Ed25519 public key, the one agents pin at install. Immutable once made; copies share the
// key. Thread-safe: const methods may be called from any number of threads.
class PublicKey {
 public:
  // Parses a SubjectPublicKeyInfo PEM ("BEGIN PUBLIC KEY") holding an Ed25519 key.
  // kInvalidArgument for anything else.
  static Result<PublicKey> FromPem(std::string_view pem);
  static Result<PublicKey> FromRaw(const std::array<std::uint8_t, kEd25519PublicKeyBytes>& raw);
  // Reads FromPem's format from a file (at most kMaxKeyFileBytes). The file functions of both
  // classes are in key_files_posix.cpp and key_files_windows.cpp.
  static Result<PublicKey> ReadFile(const std::filesystem::path& path);

  Result<std::string> ToPem() const;
  // Writes ToPem() to a new file with mode 0644 (Windows: readable by Everyone, changeable only by
  // its user, SYSTEM and the Administrators); kAlreadyExists if it exists.
  Status WriteFile(const std::filesystem::path& path) const;

  const std::string& key_id() const { return key_id_; }
  const std::array<std::uint8_t, kEd25519PublicKeyBytes>& raw() const { return raw_; }
  // The OpenSSL key, for this module's signing code.
  evp_pkey_st* pkey() const { return pkey_.get(); }

 private:
  PublicKey(std::shared_ptr<evp_pkey_st> pkey, std::array<std::uint8_t, 32> raw);

  std::shared_ptr<evp_pkey_st> pkey_;
  std::array<std::uint8_t, kEd25519PublicKeyBytes> raw_;
  std::string key_id_;
};

// An Ed25519 private key for signing policies, held by IT on the signing machine only.
// Move-only. Thread-safe for const use (signing) from several threads.
class SigningKey {
 public:
  // A fresh key from OpenSSL's CSPRNG.
  static Result<SigningKey> Generate();
  // Parses an unencrypted PKCS#8 PEM ("BEGIN PRIVATE KEY") holding an Ed25519 key.
  // Encrypted keys are kUnsupported; anything else kInvalidArgument.
  static Result<SigningKey> FromPem(std::string_view pem);
  // Reads FromPem's format from a file. kPermissionDenied if other users may read or write it
  // (like ssh, a key the whole machine can read is not trusted).
  static Result<SigningKey> ReadFile(const std::filesystem::path& path);

  SigningKey(SigningKey&&) noexcept = default;
  SigningKey& operator=(SigningKey&&) noexcept = default;
  SigningKey(const SigningKey&) = delete;
  SigningKey& operator=(const SigningKey&) = delete;
  ~SigningKey() = default;

  // Unencrypted PKCS#8 PEM. The caller should not keep it longer than needed.
  Result<std::string> ToPem() const;
  // Writes ToPem() to a new file with mode 0600 (Windows: an access list for its user, SYSTEM and
  // the Administrators only); kAlreadyExists if it exists.
  Status WriteFile(const std::filesystem::path& path) const;

  const PublicKey& public_key() const { return public_key_; }
  const std::string& key_id() const { return public_key_.key_id(); }
  evp_pkey_st* pkey() const { return pkey_.get(); }

 private:
  SigningKey(internal::UniquePkey pkey, PublicKey public_key);
  static Result<SigningKey> FromPkey(internal::UniquePkey pkey);

  internal::UniquePkey pkey_;
  PublicKey public_key_;
};

// The policy's bytes as they are signed: protobuf binary, deterministic (same policy, same
// bytes). kInvalidArgument if it cannot be serialised (over 2 GiB).
Result<std::string> SerializePolicyForSigning(const v1::Policy& policy);

// Serialises the policy deterministically and signs the bytes. Refuses (kInvalidArgument,
// listing every issue of ValidatePolicy on one line) a policy that fails validation: agents
// would reject it anyway.
Result<v1::SignedPolicy> SignPolicy(const v1::Policy& policy, const SigningKey& key);

// Checks a signed policy and returns the policy it carries. In this order:
//   key id differs from `key`'s        -> kUnauthenticated ("signed with key ..., trusted ...")
//   signature is not valid for the bytes under `key` (any changed byte) -> kUnauthenticated
//   bytes are not a Policy                -> kInvalidArgument
//   version <= version_in_force           -> kFailedPrecondition ("rollback: ...")
//   the policy fails ValidatePolicy       -> kInvalidArgument, every issue on one line
// Pass version_in_force 0 when no policy is in force yet (version 0 is never valid).
Result<v1::Policy> VerifySignedPolicy(const v1::SignedPolicy& signed_policy, const PublicKey& key,
                                      std::uint64_t version_in_force);

// The same for a serialised SignedPolicy bundle as read from a file or the network
// (at most kMaxBundleBytes; kInvalidArgument if it is not a SignedPolicy).
Result<v1::Policy> VerifySignedPolicyBytes(std::string_view bundle, const PublicKey& key,
                                           std::uint64_t version_in_force);

}  // namespace ward::policy
