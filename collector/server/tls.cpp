// SPDX-License-Identifier: Apache-2.0
#include "ward/collector/server/tls.h"

#include <arpa/inet.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

#include <fstream>
#include <memory>
#include <sstream>

namespace ward::collector {
namespace {

struct Free {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
  void operator()(X509* p) const { X509_free(p); }
  void operator()(BIO* p) const { BIO_free(p); }
  void operator()(X509_EXTENSION* p) const { X509_EXTENSION_free(p); }
};
template <typename T>
using Ptr = std::unique_ptr<T, Free>;

std::unexpected<Error> OpenSslError(std::string_view what) {
  const unsigned long code = ERR_get_error();
  char buf[256] = {};
  ERR_error_string_n(code, buf, sizeof(buf));
  ERR_clear_error();
  return InternalError(std::string(what) + ": " + buf);
}

std::string ToPem(BIO* bio) {
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio, &data);
  return {data, static_cast<std::size_t>(len)};
}

Result<Ptr<EVP_PKEY>> NewKey() {
  Ptr<EVP_PKEY> key(EVP_EC_gen("P-256"));
  if (!key) {
    return OpenSslError("generating an EC key");
  }
  return key;
}

Status AddExtension(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  Ptr<X509_EXTENSION> ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str()));
  if (!ext || X509_add_ext(cert, ext.get(), -1) != 1) {
    return OpenSslError("adding certificate extension " + value);
  }
  return OkStatus();
}

Result<Ptr<X509>> NewCert(std::string_view common_name, EVP_PKEY* key, int valid_days) {
  Ptr<X509> cert(X509_new());
  X509_set_version(cert.get(), 2);
  unsigned char serial[16];
  RAND_bytes(serial, sizeof(serial));
  serial[0] &= 0x7f;
  BIGNUM* bn = BN_bin2bn(serial, sizeof(serial), nullptr);
  BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert.get()));
  BN_free(bn);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), static_cast<long>(valid_days) * 86400);
  X509_set_pubkey(cert.get(), key);
  X509_NAME* name = X509_get_subject_name(cert.get());
  const std::string cn(common_name);
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>("Ward"), -1, -1, 0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  return cert;
}

Result<TlsMaterial> Finish(X509* cert, EVP_PKEY* key) {
  Ptr<BIO> cert_bio(BIO_new(BIO_s_mem()));
  Ptr<BIO> key_bio(BIO_new(BIO_s_mem()));
  if (PEM_write_bio_X509(cert_bio.get(), cert) != 1 ||
      PEM_write_bio_PrivateKey(key_bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    return OpenSslError("writing PEM");
  }
  return TlsMaterial{ToPem(cert_bio.get()), ToPem(key_bio.get())};
}

bool IsIpAddress(const std::string& name) {
  unsigned char buf[16];
  return inet_pton(AF_INET, name.c_str(), buf) == 1 || inet_pton(AF_INET6, name.c_str(), buf) == 1;
}

Result<std::string> ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return NotFoundError("cannot read " + path.string());
  }
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

Status WriteFile(const std::filesystem::path& path, const std::string& text, mode_t mode) {
  std::filesystem::remove(path);
  const mode_t old = ::umask(0077);
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  ::umask(old);
  out << text;
  out.close();
  if (!out || ::chmod(path.c_str(), mode) != 0) {
    return UnavailableError("cannot write " + path.string());
  }
  return OkStatus();
}

}  // namespace

Result<TlsMaterial> CreateCertificateAuthority(std::string_view common_name, int valid_days) {
  WARD_ASSIGN_OR_RETURN(Ptr<EVP_PKEY> key, NewKey());
  WARD_ASSIGN_OR_RETURN(Ptr<X509> cert, NewCert(common_name, key.get(), valid_days));
  X509_set_issuer_name(cert.get(), X509_get_subject_name(cert.get()));
  WARD_RETURN_IF_ERROR(
      AddExtension(cert.get(), cert.get(), NID_basic_constraints, "critical,CA:TRUE,pathlen:0"));
  WARD_RETURN_IF_ERROR(
      AddExtension(cert.get(), cert.get(), NID_key_usage, "critical,keyCertSign,cRLSign"));
  WARD_RETURN_IF_ERROR(AddExtension(cert.get(), cert.get(), NID_subject_key_identifier, "hash"));
  if (X509_sign(cert.get(), key.get(), EVP_sha256()) == 0) {
    return OpenSslError("signing the CA certificate");
  }
  return Finish(cert.get(), key.get());
}

Result<TlsMaterial> IssueServerCertificate(const TlsMaterial& ca,
                                           std::span<const std::string> names, int valid_days) {
  if (names.empty()) {
    return InvalidArgumentError("a server certificate needs at least one host name or address");
  }
  Ptr<BIO> ca_cert_bio(BIO_new_mem_buf(ca.cert_pem.data(), static_cast<int>(ca.cert_pem.size())));
  Ptr<BIO> ca_key_bio(BIO_new_mem_buf(ca.key_pem.data(), static_cast<int>(ca.key_pem.size())));
  Ptr<X509> ca_cert(PEM_read_bio_X509(ca_cert_bio.get(), nullptr, nullptr, nullptr));
  Ptr<EVP_PKEY> ca_key(PEM_read_bio_PrivateKey(ca_key_bio.get(), nullptr, nullptr, nullptr));
  if (!ca_cert || !ca_key) {
    return OpenSslError("reading the CA");
  }
  WARD_ASSIGN_OR_RETURN(Ptr<EVP_PKEY> key, NewKey());
  WARD_ASSIGN_OR_RETURN(Ptr<X509> cert, NewCert(names.front(), key.get(), valid_days));
  X509_set_issuer_name(cert.get(), X509_get_subject_name(ca_cert.get()));
  std::string san;
  for (const std::string& n : names) {
    san += san.empty() ? "" : ",";
    san += (IsIpAddress(n) ? "IP:" : "DNS:") + n;
  }
  WARD_RETURN_IF_ERROR(
      AddExtension(cert.get(), ca_cert.get(), NID_basic_constraints, "critical,CA:FALSE"));
  WARD_RETURN_IF_ERROR(
      AddExtension(cert.get(), ca_cert.get(), NID_key_usage, "critical,digitalSignature"));
  WARD_RETURN_IF_ERROR(AddExtension(cert.get(), ca_cert.get(), NID_ext_key_usage, "serverAuth"));
  WARD_RETURN_IF_ERROR(AddExtension(cert.get(), ca_cert.get(), NID_subject_alt_name, san));
  WARD_RETURN_IF_ERROR(
      AddExtension(cert.get(), ca_cert.get(), NID_authority_key_identifier, "keyid:always"));
  if (X509_sign(cert.get(), ca_key.get(), EVP_sha256()) == 0) {
    return OpenSslError("signing the server certificate");
  }
  return Finish(cert.get(), key.get());
}

Status WriteTlsMaterial(const TlsMaterial& material, const std::filesystem::path& cert_file,
                        const std::filesystem::path& key_file) {
  WARD_RETURN_IF_ERROR(WriteFile(key_file, material.key_pem, 0600));
  return WriteFile(cert_file, material.cert_pem, 0644);
}

Result<ssl_ctx_st*> NewServerTlsContext(const std::filesystem::path& cert_file,
                                        const std::filesystem::path& key_file) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
  if (ctx == nullptr) {
    return OpenSslError("creating a TLS context");
  }
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  SSL_CTX_set_cipher_list(ctx, "ECDHE+AESGCM:ECDHE+CHACHA20");
  // Idle (parked) connections give their 16 KiB read/write buffers back.
  SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
  if (SSL_CTX_use_certificate_chain_file(ctx, cert_file.c_str()) != 1 ||
      SSL_CTX_use_PrivateKey_file(ctx, key_file.c_str(), SSL_FILETYPE_PEM) != 1 ||
      SSL_CTX_check_private_key(ctx) != 1) {
    ERR_clear_error();
    SSL_CTX_free(ctx);
    return InvalidArgumentError("cannot load TLS certificate " + cert_file.string() + " and key " +
                                key_file.string());
  }
  return ctx;
}

Result<TlsMaterial> ReadTlsMaterial(const std::filesystem::path& cert_file,
                                    const std::filesystem::path& key_file) {
  WARD_ASSIGN_OR_RETURN(std::string cert, ReadFile(cert_file));
  WARD_ASSIGN_OR_RETURN(std::string key, ReadFile(key_file));
  return TlsMaterial{std::move(cert), std::move(key)};
}

}  // namespace ward::collector
