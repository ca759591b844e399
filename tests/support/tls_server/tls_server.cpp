// SPDX-License-Identifier: Apache-2.0
#include "ward/testing/tls_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>

#include "ward/collector/server/tls.h"

namespace ward::testing {

Result<TlsServerPki> CreateTlsServerPki(const std::filesystem::path& dir,
                                        std::span<const std::string> names) {
  WARD_ASSIGN_OR_RETURN(auto ca, collector::CreateCertificateAuthority("Test CA", 2));
  WARD_ASSIGN_OR_RETURN(auto server, collector::IssueServerCertificate(ca, names, 2));
  std::filesystem::create_directories(dir);
  TlsServerPki pki{dir / "ca.pem", dir / "server.pem", dir / "server.key"};
  WARD_RETURN_IF_ERROR(collector::WriteTlsMaterial(ca, pki.ca_cert, dir / "ca.key"));
  WARD_RETURN_IF_ERROR(collector::WriteTlsMaterial(server, pki.server_cert, pki.server_key));
  return pki;
}

bool TlsServerConnection::ReadMore() {
  char buf[16384];
  const int n = SSL_read(ssl_, buf, sizeof(buf));
  if (n <= 0) {
    ERR_clear_error();
    return false;
  }
  in_.append(buf, static_cast<std::size_t>(n));
  return true;
}

std::optional<SeenRequest> TlsServerConnection::ReadRequest() {
  std::size_t head_end = 0;
  while ((head_end = in_.find("\r\n\r\n")) == std::string::npos) {
    if (!ReadMore()) {
      return std::nullopt;
    }
  }
  SeenRequest r;
  const std::string head = in_.substr(0, head_end + 2);
  std::size_t pos = head.find("\r\n");
  const std::string request_line = head.substr(0, pos);
  const std::size_t sp1 = request_line.find(' ');
  const std::size_t sp2 = request_line.find(' ', sp1 + 1);
  r.method = request_line.substr(0, sp1);
  r.target = request_line.substr(sp1 + 1, sp2 - sp1 - 1);
  for (pos += 2; pos < head.size();) {
    const std::size_t end = head.find("\r\n", pos);
    const std::string line = head.substr(pos, end - pos);
    const std::size_t colon = line.find(':');
    std::string name = line.substr(0, colon);
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    std::string value = colon == std::string::npos ? "" : line.substr(colon + 1);
    value.erase(0, value.find_first_not_of(' '));
    r.headers[name] = value;
    pos = end + 2;
  }
  std::size_t length = 0;
  if (auto it = r.headers.find("content-length"); it != r.headers.end()) {
    std::from_chars(it->second.data(), it->second.data() + it->second.size(), length);
  }
  while (in_.size() < head_end + 4 + length) {
    if (!ReadMore()) {
      return std::nullopt;
    }
  }
  r.body = in_.substr(head_end + 4, length);
  in_.erase(0, head_end + 4 + length);
  requests_.fetch_add(1);
  return r;
}

bool TlsServerConnection::Write(std::string_view bytes) {
  while (!bytes.empty()) {
    const int n = SSL_write(ssl_, bytes.data(), static_cast<int>(bytes.size()));
    if (n <= 0) {
      ERR_clear_error();
      return false;
    }
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

void TlsServerConnection::WaitForClose() {
  while (ReadMore()) {
  }
}

Result<std::unique_ptr<TestTlsServer>> TestTlsServer::Start(const TlsServerPki& pki,
                                                            Handler handler,
                                                            const std::string& address) {
  ::signal(SIGPIPE, SIG_IGN);  // a client that hangs up must not kill the test
  std::unique_ptr<TestTlsServer> s(new TestTlsServer());
  s->handler_ = std::move(handler);
  s->ctx_ = SSL_CTX_new(TLS_server_method());
  if (s->ctx_ == nullptr ||
      SSL_CTX_use_certificate_chain_file(s->ctx_, pki.server_cert.c_str()) != 1 ||
      SSL_CTX_use_PrivateKey_file(s->ctx_, pki.server_key.c_str(), SSL_FILETYPE_PEM) != 1) {
    ERR_clear_error();
    return InternalError("cannot load the test server's certificate or key");
  }
  const bool v6 = address.find(':') != std::string::npos;
  s->listen_fd_ = ::socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_storage storage{};
  socklen_t len = 0;
  if (v6) {
    auto* a = reinterpret_cast<sockaddr_in6*>(&storage);
    a->sin6_family = AF_INET6;
    ::inet_pton(AF_INET6, address.c_str(), &a->sin6_addr);
    len = sizeof(sockaddr_in6);
  } else {
    auto* a = reinterpret_cast<sockaddr_in*>(&storage);
    a->sin_family = AF_INET;
    ::inet_pton(AF_INET, address.c_str(), &a->sin_addr);
    len = sizeof(sockaddr_in);
  }
  if (s->listen_fd_ < 0 || ::bind(s->listen_fd_, reinterpret_cast<sockaddr*>(&storage), len) != 0 ||
      ::listen(s->listen_fd_, 16) != 0 ||
      ::getsockname(s->listen_fd_, reinterpret_cast<sockaddr*>(&storage), &len) != 0) {
    return std::unexpected(ErrnoError("listen on " + address, errno));
  }
  s->port_ = ntohs(v6 ? reinterpret_cast<sockaddr_in6*>(&storage)->sin6_port
                      : reinterpret_cast<sockaddr_in*>(&storage)->sin_port);
  s->wake_fd_ = ::eventfd(0, EFD_CLOEXEC);
  s->acceptor_ = std::thread([raw = s.get()] { raw->AcceptLoop(); });
  return s;
}

TestTlsServer::~TestTlsServer() {
  stopping_ = true;
  if (wake_fd_ >= 0) {
    const std::uint64_t one = 1;
    [[maybe_unused]] auto n = ::write(wake_fd_, &one, sizeof(one));
  }
  if (acceptor_.joinable()) {
    acceptor_.join();
  }
  std::vector<std::thread> servers;
  {
    std::scoped_lock lock(mu_);
    for (int fd : open_fds_) {
      ::shutdown(fd, SHUT_RDWR);
    }
    servers.swap(servers_);
  }
  for (auto& t : servers) {
    t.join();
  }
  for (int fd : {listen_fd_, wake_fd_}) {
    if (fd >= 0) {
      ::close(fd);
    }
  }
  SSL_CTX_free(ctx_);
}

void TestTlsServer::AcceptLoop() {
  while (!stopping_) {
    pollfd p[2] = {{listen_fd_, POLLIN, 0}, {wake_fd_, POLLIN, 0}};
    if (::poll(p, 2, -1) < 0 || (p[1].revents & POLLIN) != 0) {
      if (errno == EINTR) {
        continue;
      }
      return;
    }
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) {
      continue;
    }
    connections_.fetch_add(1);
    // A bound on every blocking read, in case a test forgets to stop the server.
    timeval tv{60, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    std::scoped_lock lock(mu_);
    if (stopping_) {
      ::close(fd);
      return;
    }
    open_fds_.push_back(fd);
    servers_.emplace_back([this, fd] { Serve(fd); });
  }
}

void TestTlsServer::Serve(int fd) {
  SSL* ssl = SSL_new(ctx_);
  SSL_set_fd(ssl, fd);
  if (SSL_accept(ssl) == 1) {
    handshakes_.fetch_add(1);
    TlsServerConnection conn(ssl, requests_);
    handler_(conn);
    SSL_shutdown(ssl);
  }
  ERR_clear_error();
  SSL_free(ssl);
  std::scoped_lock lock(mu_);
  open_fds_.erase(std::remove(open_fds_.begin(), open_fds_.end(), fd), open_fds_.end());
  ::close(fd);
}

}  // namespace ward::testing
