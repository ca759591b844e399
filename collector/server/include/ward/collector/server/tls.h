// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <filesystem>
#include <span>
#include <string>
#include <string_view>

#include "ward/common/result.h"

struct ssl_ctx_st;

namespace ward::collector {

// A certificate and its private key, both PEM. Value type.
struct TlsMaterial {
  std::string cert_pem;
  std::string key_pem;
};

// A self-signed CA (ECDSA P-256, SHA-256) for a site's collectors; the agents pin its cert.
Result<TlsMaterial> CreateCertificateAuthority(std::string_view common_name, int valid_days);
// A server certificate signed by `ca` for the given names: each is an IPv4/IPv6 address
// (IP subjectAltName) or a DNS name. kInvalidArgument when `names` is empty.
Result<TlsMaterial> IssueServerCertificate(const TlsMaterial& ca,
                                           std::span<const std::string> names, int valid_days);
// Writes the cert (0644) and the key (0600, never world-readable) files.
Status WriteTlsMaterial(const TlsMaterial& material, const std::filesystem::path& cert_file,
                        const std::filesystem::path& key_file);
// The collector's server-side TLS settings, in one place: TLS 1.2 at least (1.3 preferred by
// OpenSSL), ECDHE with AES-GCM or ChaCha20 only (no CBC, no RSA key exchange), no
// renegotiation, buffers released while a connection is idle. The caller owns the context
// (SSL_CTX_free). kInvalidArgument when the certificate or key cannot be loaded or do not match.
Result<ssl_ctx_st*> NewServerTlsContext(const std::filesystem::path& cert_file,
                                        const std::filesystem::path& key_file);
Result<TlsMaterial> ReadTlsMaterial(const std::filesystem::path& cert_file,
                                    const std::filesystem::path& key_file);

}  // namespace ward::collector
