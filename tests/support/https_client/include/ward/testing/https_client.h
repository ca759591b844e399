// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "ward/common/result.h"

struct ssl_ctx_st;
struct ssl_st;

namespace ward::testing {

struct HttpsResponse {
  int status = 0;
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;
};

// Client-side TLS settings shared by many connections: trusts only `ca_file`, TLS 1.2+.
// Thread-safe after construction.
class TlsClientContext {
 public:
  static Result<std::shared_ptr<TlsClientContext>> Create(const std::filesystem::path& ca_file);
  ~TlsClientContext();
  ssl_ctx_st* get() const { return ctx_; }

 private:
  ssl_ctx_st* ctx_ = nullptr;
};

// A blocking HTTP/1.1 keep-alive connection over TLS to 127.0.0.1, verifying the server's
// certificate (chain to the CA and the IP address). For tests and the fleet simulator.
// Confined to one thread.
class HttpsConnection {
 public:
  // `source_address` (an IPv4 address in 127.0.0.0/8, or empty for the kernel's choice) lets
  // one process look like many hosts to per-address limits.
  static Result<std::unique_ptr<HttpsConnection>> Connect(
      std::shared_ptr<TlsClientContext> tls, std::uint16_t port,
      std::chrono::seconds timeout = std::chrono::seconds(60),
      const std::string& source_address = {});
  ~HttpsConnection();

  // Sends one request and reads the whole response. kUnavailable on any I/O or TLS failure (the
  // connection is then unusable).
  Result<HttpsResponse> Request(
      const std::string& method, const std::string& path, const std::string& body = "",
      const std::vector<std::pair<std::string, std::string>>& headers = {},
      const std::string& content_type = "application/x-protobuf");
  // Writes raw bytes (for malformed-request tests).
  Status WriteRaw(const std::string& bytes);
  // Reads one response.
  Result<HttpsResponse> ReadResponse();
  std::string NegotiatedProtocol() const;

 private:
  HttpsConnection() = default;
  Result<std::size_t> ReadSome();

  std::shared_ptr<TlsClientContext> tls_;
  int fd_ = -1;
  ssl_st* ssl_ = nullptr;
  std::string in_;
};

}  // namespace ward::testing
