// SPDX-License-Identifier: Apache-2.0
#include "ward/policy/signing.h"

#include <climits>
#include <utility>

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/sha.h>

#include "ward/common/hex.h"
#include "ward/policy/loader.h"

namespace ward::policy {

void internal::PkeyFree::operator()(evp_pkey_st* key) const { EVP_PKEY_free(key); }

namespace {

struct BioFree {
  void operator()(BIO* bio) const { BIO_free(bio); }
};
struct PkeyCtxFree {
  void operator()(EVP_PKEY_CTX* ctx) const { EVP_PKEY_CTX_free(ctx); }
};
struct MdCtxFree {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};
using UniqueBio = std::unique_ptr<BIO, BioFree>;
using UniquePkeyCtx = std::unique_ptr<EVP_PKEY_CTX, PkeyCtxFree>;
using UniqueMdCtx = std::unique_ptr<EVP_MD_CTX, MdCtxFree>;

// Drains OpenSSL's thread-local error queue into one readable line.
std::string OpenSslErrors() {
  std::string out;
  while (const unsigned long code = ERR_get_error()) {
    char buffer[256];
    ERR_error_string_n(code, buffer, sizeof(buffer));
    if (!out.empty()) {
      out.append("; ");
    }
    out.append(buffer);
  }
  return out.empty() ? std::string("no detail from OpenSSL") : out;
}

std::unexpected<Error> OpenSslError(std::string_view what) {
  std::string message(what);
  message.append(" (");
  message.append(OpenSslErrors());
  message.append(")");
  return InternalError(std::move(message));
}

Result<std::array<std::uint8_t, kEd25519PublicKeyBytes>> RawPublicKey(const EVP_PKEY* pkey) {
  std::array<std::uint8_t, kEd25519PublicKeyBytes> raw{};
  std::size_t length = raw.size();
  if (EVP_PKEY_get_raw_public_key(pkey, raw.data(), &length) != 1 || length != raw.size()) {
    return OpenSslError("reading the raw Ed25519 public key");
  }
  return raw;
}

Result<UniqueBio> MemoryBio(std::string_view data) {
  if (data.size() > static_cast<std::size_t>(INT_MAX)) {
    return InvalidArgumentError("key data is too large");
  }
  UniqueBio bio(BIO_new_mem_buf(data.data(), static_cast<int>(data.size())));
  if (!bio) {
    return OpenSslError("allocating a memory BIO");
  }
  return bio;
}

Result<std::string> BioContents(BIO* bio) {
  char* data = nullptr;
  const long length = BIO_get_mem_data(bio, &data);
  if (length < 0 || (length > 0 && data == nullptr)) {
    return OpenSslError("reading PEM output");
  }
  return std::string(data, static_cast<std::size_t>(length));
}

// OpenSSL's default PEM callback would prompt on the terminal for a pass phrase; never do that.
int NoPassphrase(char* /*buf*/, int /*size*/, int /*rwflag*/, void* /*userdata*/) { return -1; }

enum class PemKind : std::uint8_t { kPublic, kPrivate };

// Parses an Ed25519 key from PEM: SubjectPublicKeyInfo or unencrypted PKCS#8.
Result<internal::UniquePkey> ReadPemKey(std::string_view pem, PemKind kind) {
  const bool is_public = kind == PemKind::kPublic;
  const std::string what = is_public ? "public key PEM" : "private key PEM";
  if (pem.size() > kMaxKeyFileBytes) {
    return InvalidArgumentError("a " + what + " is at most " + std::to_string(kMaxKeyFileBytes) +
                                " bytes");
  }
  WARD_ASSIGN_OR_RETURN(UniqueBio bio, MemoryBio(pem));
  ERR_clear_error();
  internal::UniquePkey pkey(
      is_public ? PEM_read_bio_PUBKEY(bio.get(), nullptr, NoPassphrase, nullptr)
                : PEM_read_bio_PrivateKey(bio.get(), nullptr, NoPassphrase, nullptr));
  ERR_clear_error();
  if (!pkey) {
    return InvalidArgumentError("not a " + what + " (expected '-----BEGIN " +
                                (is_public ? "PUBLIC" : "PRIVATE") +
                                " KEY-----' with an Ed25519 key)");
  }
  if (EVP_PKEY_get_id(pkey.get()) != EVP_PKEY_ED25519) {
    return InvalidArgumentError("the " + what + " holds a key that is not Ed25519");
  }
  return pkey;
}

// Every issue on one line, for a one-line error: "<path>: <why>; <path>: <why>".
std::string JoinIssues(const std::vector<PolicyIssue>& issues) {
  std::string out;
  for (const PolicyIssue& issue : issues) {
    if (!out.empty()) {
      out.append("; ");
    }
    out.append(issue.ToString());
  }
  return out;
}

}  // namespace

std::string KeyIdOf(const std::array<std::uint8_t, kEd25519PublicKeyBytes>& raw_public_key) {
  std::array<std::uint8_t, SHA256_DIGEST_LENGTH> digest{};
  SHA256(raw_public_key.data(), raw_public_key.size(), digest.data());
  return HexEncode(std::span<const std::uint8_t>(digest.data(), 8));
}

// ---------------------------------------------------------------------------------------------
// PublicKey

PublicKey::PublicKey(std::shared_ptr<evp_pkey_st> pkey, std::array<std::uint8_t, 32> raw)
    : pkey_(std::move(pkey)), raw_(raw), key_id_(KeyIdOf(raw_)) {}

Result<PublicKey> PublicKey::FromPem(std::string_view pem) {
  WARD_ASSIGN_OR_RETURN(internal::UniquePkey pkey, ReadPemKey(pem, PemKind::kPublic));
  WARD_ASSIGN_OR_RETURN(auto raw, RawPublicKey(pkey.get()));
  return PublicKey(std::shared_ptr<evp_pkey_st>(pkey.release(), internal::PkeyFree{}), raw);
}

Result<PublicKey> PublicKey::FromRaw(const std::array<std::uint8_t, kEd25519PublicKeyBytes>& raw) {
  internal::UniquePkey pkey(
      EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, raw.data(), raw.size()));
  if (!pkey) {
    return OpenSslError("making an Ed25519 public key");
  }
  return PublicKey(std::shared_ptr<evp_pkey_st>(pkey.release(), internal::PkeyFree{}), raw);
}

Result<std::string> PublicKey::ToPem() const {
  UniqueBio bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PUBKEY(bio.get(), pkey_.get()) != 1) {
    return OpenSslError("encoding the public key as PEM");
  }
  return BioContents(bio.get());
}

// ---------------------------------------------------------------------------------------------
// SigningKey

SigningKey::SigningKey(internal::UniquePkey pkey, PublicKey public_key)
    : pkey_(std::move(pkey)), public_key_(std::move(public_key)) {}

Result<SigningKey> SigningKey::FromPkey(internal::UniquePkey pkey) {
  WARD_ASSIGN_OR_RETURN(auto raw, RawPublicKey(pkey.get()));
  WARD_ASSIGN_OR_RETURN(PublicKey public_key, PublicKey::FromRaw(raw));
  return SigningKey(std::move(pkey), std::move(public_key));
}

Result<SigningKey> SigningKey::Generate() {
  ERR_clear_error();
  UniquePkeyCtx ctx(EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, nullptr));
  if (!ctx || EVP_PKEY_keygen_init(ctx.get()) != 1) {
    return OpenSslError("preparing Ed25519 key generation");
  }
  EVP_PKEY* raw_pkey = nullptr;
  if (EVP_PKEY_keygen(ctx.get(), &raw_pkey) != 1) {
    return OpenSslError("generating an Ed25519 key");
  }
  return FromPkey(internal::UniquePkey(raw_pkey));
}

Result<SigningKey> SigningKey::FromPem(std::string_view pem) {
  if (pem.find("-----BEGIN ENCRYPTED PRIVATE KEY-----") != std::string_view::npos) {
    return UnsupportedError(
        "encrypted private keys are not supported; keep the key file on an "
        "encrypted disk with mode 0600 instead");
  }
  WARD_ASSIGN_OR_RETURN(internal::UniquePkey pkey, ReadPemKey(pem, PemKind::kPrivate));
  return FromPkey(std::move(pkey));
}

Result<std::string> SigningKey::ToPem() const {
  UniqueBio bio(BIO_new(BIO_s_mem()));
  if (!bio) {
    return OpenSslError("allocating a memory BIO");
  }
  if (PEM_write_bio_PKCS8PrivateKey(bio.get(), pkey_.get(), nullptr, nullptr, 0, nullptr,
                                    nullptr) != 1) {
    return OpenSslError("encoding the private key as PKCS#8 PEM");
  }
  return BioContents(bio.get());
}

// ---------------------------------------------------------------------------------------------
// Signing and verification

Result<std::string> SerializePolicyForSigning(const v1::Policy& policy) {
  const std::size_t size = policy.ByteSizeLong();
  if (size > static_cast<std::size_t>(INT_MAX)) {
    return InvalidArgumentError("the policy is too large to serialise (" + std::to_string(size) +
                                " bytes)");
  }
  std::string bytes;
  bytes.reserve(size);
  {
    google::protobuf::io::StringOutputStream stream(&bytes);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    if (!policy.SerializeToCodedStream(&coded)) {
      return InternalError("serialising the policy failed");
    }
  }
  return bytes;
}

Result<v1::SignedPolicy> SignPolicy(const v1::Policy& policy, const SigningKey& key) {
  if (const auto issues = ValidatePolicy(policy); !issues.empty()) {
    return InvalidArgumentError("not signing a policy that agents would reject: " +
                                JoinIssues(issues));
  }
  WARD_ASSIGN_OR_RETURN(std::string bytes, SerializePolicyForSigning(policy));
  ERR_clear_error();
  UniqueMdCtx ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, key.pkey()) != 1) {
    return OpenSslError("preparing to sign");
  }
  std::string signature(kEd25519SignatureBytes, '\0');
  std::size_t length = signature.size();
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(signature.data()), &length,
                     reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size()) != 1 ||
      length != kEd25519SignatureBytes) {
    return OpenSslError("signing the policy");
  }
  v1::SignedPolicy signed_policy;
  signed_policy.set_policy(std::move(bytes));
  signed_policy.set_signature(std::move(signature));
  signed_policy.set_key_id(key.key_id());
  return signed_policy;
}

Result<v1::Policy> VerifySignedPolicy(const v1::SignedPolicy& signed_policy, const PublicKey& key,
                                      std::uint64_t version_in_force) {
  if (signed_policy.key_id() != key.key_id()) {
    // The id comes from the bundle: quote it only if it looks like one, so hostile bytes never
    // reach a log line or a terminal.
    const std::string& id = signed_policy.key_id();
    const bool printable = !id.empty() && id.size() <= 64 && HexDecode(id).has_value();
    return UnauthenticatedError((printable ? "the policy was signed with key '" + id + "'"
                                           : std::string("the policy carries a malformed key id")) +
                                ", but the trusted key is '" + key.key_id() + "'");
  }
  if (signed_policy.signature().size() != kEd25519SignatureBytes) {
    return UnauthenticatedError("the signature is " +
                                std::to_string(signed_policy.signature().size()) +
                                " bytes; an Ed25519 signature is 64");
  }
  ERR_clear_error();
  UniqueMdCtx ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, key.pkey()) != 1) {
    return OpenSslError("preparing to verify");
  }
  const std::string& bytes = signed_policy.policy();
  const int verified = EVP_DigestVerify(
      ctx.get(), reinterpret_cast<const unsigned char*>(signed_policy.signature().data()),
      signed_policy.signature().size(), reinterpret_cast<const unsigned char*>(bytes.data()),
      bytes.size());
  ERR_clear_error();
  if (verified != 1) {
    return UnauthenticatedError(
        "the signature does not match the policy: it was changed after signing, or signed with "
        "another key");
  }
  v1::Policy policy;
  if (!policy.ParseFromString(bytes)) {
    return InvalidArgumentError("the signed bytes are not a ward.v1.Policy");
  }
  if (policy.version() <= version_in_force) {
    return FailedPreconditionError("rollback: policy version " + std::to_string(policy.version()) +
                                   " is not newer than version " +
                                   std::to_string(version_in_force) + " in force");
  }
  if (const auto issues = ValidatePolicy(policy); !issues.empty()) {
    return InvalidArgumentError("the signed policy is not valid: " + JoinIssues(issues));
  }
  return policy;
}

Result<v1::Policy> VerifySignedPolicyBytes(std::string_view bundle, const PublicKey& key,
                                           std::uint64_t version_in_force) {
  if (bundle.size() > kMaxBundleBytes) {
    return InvalidArgumentError("the policy bundle is " + std::to_string(bundle.size()) +
                                " bytes; at most " + std::to_string(kMaxBundleBytes) +
                                " are accepted");
  }
  v1::SignedPolicy signed_policy;
  if (!signed_policy.ParseFromArray(bundle.data(), static_cast<int>(bundle.size()))) {
    return InvalidArgumentError("not a signed policy bundle (ward.v1.SignedPolicy)");
  }
  return VerifySignedPolicy(signed_policy, key, version_in_force);
}

}  // namespace ward::policy
