// SPDX-License-Identifier: Apache-2.0
#include "ward/testing/collector_support.h"

#include <openssl/evp.h>

#include <array>
#include <cstdlib>
#include <vector>

#include "ward/collector/server/tls.h"
#include "ward/common/hex.h"
#include "ward/v1/policy.pb.h"

namespace ward::testing {

Result<TestPki> CreateTestPki(const std::filesystem::path& dir) {
  WARD_ASSIGN_OR_RETURN(auto ca, collector::CreateCertificateAuthority("Test CA", 2));
  const std::vector<std::string> names = {"127.0.0.1", "localhost"};
  WARD_ASSIGN_OR_RETURN(auto server, collector::IssueServerCertificate(ca, names, 2));
  TestPki pki{dir / "ca.pem", dir / "server.pem", dir / "server.key"};
  WARD_RETURN_IF_ERROR(collector::WriteTlsMaterial(ca, pki.ca_cert, dir / "ca.key"));
  WARD_RETURN_IF_ERROR(collector::WriteTlsMaterial(server, pki.server_cert, pki.server_key));
  return pki;
}

Result<std::unique_ptr<PolicySigner>> PolicySigner::Generate() {
  std::unique_ptr<PolicySigner> s(new PolicySigner());
  EVP_PKEY* key = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
  if (key == nullptr) {
    return InternalError("Ed25519 key generation failed");
  }
  s->key_ = key;
  std::array<std::uint8_t, 32> pub{};
  std::size_t len = pub.size();
  EVP_PKEY_get_raw_public_key(key, pub.data(), &len);
  s->public_key_hex_ = HexEncode(pub);
  return s;
}

PolicySigner::~PolicySigner() { EVP_PKEY_free(static_cast<EVP_PKEY*>(key_)); }

Result<std::string> PolicySigner::SignedPolicyBytes(std::uint64_t version,
                                                    const std::string& name) {
  ward::v1::Policy policy;
  policy.set_version(version);
  policy.set_name(name);
  policy.set_mode(ward::v1::MODE_MONITOR);
  policy.set_audience(ward::v1::AUDIENCE_UNDER_18);
  policy.mutable_issued_at()->set_seconds(1'700'000'000);
  const std::string bytes = policy.SerializeAsString();
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  std::array<unsigned char, 64> sig{};
  std::size_t sig_len = sig.size();
  const bool ok =
      EVP_DigestSignInit(ctx, nullptr, nullptr, nullptr, static_cast<EVP_PKEY*>(key_)) == 1 &&
      EVP_DigestSign(ctx, sig.data(), &sig_len,
                     reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size()) == 1;
  EVP_MD_CTX_free(ctx);
  if (!ok) {
    return InternalError("Ed25519 signing failed");
  }
  ward::v1::SignedPolicy signed_policy;
  signed_policy.set_policy(bytes);
  signed_policy.set_signature(reinterpret_cast<const char*>(sig.data()), sig_len);
  signed_policy.set_key_id(public_key_hex_.substr(0, 16));
  return signed_policy.SerializeAsString();
}

TempDir::TempDir() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "ward-test-XXXXXX").string();
  if (::mkdtemp(tmpl.data()) != nullptr) {
    path_ = tmpl;
  }
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

}  // namespace ward::testing
