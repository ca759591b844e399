// SPDX-License-Identifier: Apache-2.0
#include "ward/testing/https_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>

namespace ward::testing {
namespace {

std::string SslErrorText() {
  char buf[256] = {};
  ERR_error_string_n(ERR_get_error(), buf, sizeof(buf));
  ERR_clear_error();
  return buf;
}

}  // namespace

Result<std::shared_ptr<TlsClientContext>> TlsClientContext::Create(
    const std::filesystem::path& ca_file) {
  auto ctx = std::make_shared<TlsClientContext>();
  ctx->ctx_ = SSL_CTX_new(TLS_client_method());
  if (ctx->ctx_ == nullptr) {
    return InternalError("SSL_CTX_new failed");
  }
  SSL_CTX_set_min_proto_version(ctx->ctx_, TLS1_2_VERSION);
  SSL_CTX_set_verify(ctx->ctx_, SSL_VERIFY_PEER, nullptr);
  if (SSL_CTX_load_verify_locations(ctx->ctx_, ca_file.c_str(), nullptr) != 1) {
    return InvalidArgumentError("cannot load CA " + ca_file.string() + ": " + SslErrorText());
  }
  return ctx;
}

TlsClientContext::~TlsClientContext() { SSL_CTX_free(ctx_); }

Result<std::unique_ptr<HttpsConnection>> HttpsConnection::Connect(
    std::shared_ptr<TlsClientContext> tls, std::uint16_t port, std::chrono::seconds timeout,
    const std::string& source_address) {
  std::unique_ptr<HttpsConnection> c(new HttpsConnection());
  c->tls_ = std::move(tls);
  c->fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (c->fd_ < 0) {
    return std::unexpected(ErrnoError("socket", errno));
  }
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(timeout.count());
  ::setsockopt(c->fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  ::setsockopt(c->fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  int one = 1;
  ::setsockopt(c->fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  if (!source_address.empty()) {
    sockaddr_in src{};
    src.sin_family = AF_INET;
    if (::inet_pton(AF_INET, source_address.c_str(), &src.sin_addr) != 1 ||
        ::bind(c->fd_, reinterpret_cast<sockaddr*>(&src), sizeof(src)) != 0) {
      return UnavailableError("cannot bind to source address " + source_address);
    }
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(c->fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    return UnavailableError("connect 127.0.0.1:" + std::to_string(port) + ": " +
                            std::to_string(errno));
  }
  c->ssl_ = SSL_new(c->tls_->get());
  SSL_set_fd(c->ssl_, c->fd_);
  X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(c->ssl_), "127.0.0.1");
  if (SSL_connect(c->ssl_) != 1) {
    return UnavailableError("TLS handshake failed: " + SslErrorText());
  }
  return c;
}

HttpsConnection::~HttpsConnection() {
  if (ssl_ != nullptr) {
    SSL_free(ssl_);
  }
  if (fd_ >= 0) {
    ::close(fd_);
  }
}

std::string HttpsConnection::NegotiatedProtocol() const { return SSL_get_version(ssl_); }

Status HttpsConnection::WriteRaw(const std::string& bytes) {
  std::size_t off = 0;
  while (off < bytes.size()) {
    const int n = SSL_write(ssl_, bytes.data() + off, static_cast<int>(bytes.size() - off));
    if (n <= 0) {
      return UnavailableError("TLS write failed: " + SslErrorText());
    }
    off += static_cast<std::size_t>(n);
  }
  return OkStatus();
}

Result<std::size_t> HttpsConnection::ReadSome() {
  char buf[16384];
  const int n = SSL_read(ssl_, buf, sizeof(buf));
  if (n <= 0) {
    return UnavailableError("connection closed or TLS read failed: " + SslErrorText());
  }
  in_.append(buf, static_cast<std::size_t>(n));
  return static_cast<std::size_t>(n);
}

Result<HttpsResponse> HttpsConnection::ReadResponse() {
  std::size_t header_end;
  while ((header_end = in_.find("\r\n\r\n")) == std::string::npos) {
    WARD_RETURN_IF_ERROR(ReadSome());
  }
  HttpsResponse r;
  const std::string head = in_.substr(0, header_end);
  if (head.size() < 12 || !head.starts_with("HTTP/1.1 ")) {
    return UnavailableError("malformed response: " + head.substr(0, 40));
  }
  r.status = std::stoi(head.substr(9, 3));
  std::size_t pos = head.find("\r\n");
  while (pos != std::string::npos && pos < head.size()) {
    const std::size_t start = pos + 2;
    std::size_t end = head.find("\r\n", start);
    const std::string line = head.substr(start, end == std::string::npos ? end : end - start);
    const std::size_t colon = line.find(':');
    if (colon != std::string::npos) {
      std::string name = line.substr(0, colon);
      std::transform(name.begin(), name.end(), name.begin(),
                     [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
      std::string value = line.substr(colon + 1);
      value.erase(0, value.find_first_not_of(' '));
      r.headers[name] = value;
    }
    pos = end;
  }
  std::size_t length = 0;
  const std::string& cl = r.headers["content-length"];
  std::from_chars(cl.data(), cl.data() + cl.size(), length);
  while (in_.size() < header_end + 4 + length) {
    WARD_RETURN_IF_ERROR(ReadSome());
  }
  r.body = in_.substr(header_end + 4, length);
  in_.erase(0, header_end + 4 + length);
  return r;
}

Result<HttpsResponse> HttpsConnection::Request(
    const std::string& method, const std::string& path, const std::string& body,
    const std::vector<std::pair<std::string, std::string>>& headers,
    const std::string& content_type) {
  std::string req = method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
  req += "Content-Type: " + content_type + "\r\n";
  req += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  for (const auto& [k, v] : headers) {
    req += k + ": " + v + "\r\n";
  }
  req += "\r\n";
  req += body;
  WARD_RETURN_IF_ERROR(WriteRaw(req));
  return ReadResponse();
}

}  // namespace ward::testing
