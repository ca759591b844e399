// SPDX-License-Identifier: Apache-2.0
// The collector's HTTP server in-process on loopback with real TLS and a trivial handler:
// deadlines, caps, eviction, running out of descriptors, half-closed clients, parking.
#include "internal/http_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "ward/collector/server/tls.h"
#include "ward/common/log.h"
#include "ward/testing/collector_support.h"
#include "ward/testing/https_client.h"

namespace ward::collector::internal {
namespace {

using namespace std::chrono_literals;
using Steady = std::chrono::steady_clock;

// Counts warnings; installed for the whole test program (log sinks are process-wide).
class CountingSink final : public log::Sink {
 public:
  void Write(log::Level level, std::string_view) override {
    if (level >= log::Level::kWarning) {
      ++warnings;
    }
  }
  static inline std::atomic<int> warnings{0};
};

struct Raw {
  int fd = -1;
  SSL* ssl = nullptr;
  ~Raw() {
    if (ssl != nullptr) {
      SSL_free(ssl);
    }
    if (fd >= 0) {
      ::close(fd);
    }
  }
  // Reads one response (head and Content-Length body), or until the peer closes or `timeout`.
  std::string ReadAll(std::chrono::milliseconds timeout = 5000ms) {
    std::string out;
    const auto end = Steady::now() + timeout;
    char buf[4096];
    while (Steady::now() < end) {
      const int n = SSL_read(ssl, buf, sizeof(buf));
      if (n <= 0) {
        break;
      }
      out.append(buf, static_cast<std::size_t>(n));
      const std::size_t head = out.find("\r\n\r\n");
      const std::size_t cl = out.find("Content-Length: ");
      if (head != std::string::npos && cl != std::string::npos && cl < head &&
          out.size() >= head + 4 + std::stoul(out.substr(cl + 16))) {
        break;
      }
    }
    ERR_clear_error();
    return out;
  }
  bool Write(std::string_view s) {
    return SSL_write(ssl, s.data(), static_cast<int>(s.size())) == static_cast<int>(s.size());
  }
  // Whether the server closed the connection (EOF or reset) within `timeout`.
  bool ClosedWithin(std::chrono::milliseconds timeout) {
    const auto end = Steady::now() + timeout;
    while (Steady::now() < end) {
      char c;
      const ssize_t n = ::recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
      if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) {
        return true;
      }
      if (n > 0) {
        // Drain what arrived (TLS records such as session tickets) to see what follows it.
        char buf[4096];
        if (ssl == nullptr) {
          [[maybe_unused]] ssize_t r = ::recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
          continue;
        }
        if (SSL_read(ssl, buf, sizeof(buf)) <= 0) {
          ERR_clear_error();
          return true;
        }
        continue;
      }
      std::this_thread::sleep_for(20ms);
    }
    return false;
  }
};

class HttpServerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { log::SetSink(std::make_unique<CountingSink>()); }

  void SetUp() override {
    auto pki = testing::CreateTestPki(dir_.path());
    ASSERT_TRUE(pki.has_value()) << pki.error().ToString();
    pki_ = *pki;
    auto tls = NewServerTlsContext(pki_.server_cert, pki_.server_key);
    ASSERT_TRUE(tls.has_value()) << tls.error().ToString();
    server_tls_ = *tls;
    auto client = testing::TlsClientContext::Create(pki_.ca_cert);
    ASSERT_TRUE(client.has_value());
    client_tls_ = *client;
    attacker_tls_ = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_verify(attacker_tls_, SSL_VERIFY_NONE, nullptr);
  }

  void TearDown() override {
    if (server_) {
      server_->Stop();
    }
    SSL_CTX_free(server_tls_);
    SSL_CTX_free(attacker_tls_);
  }

  void StartServer(HttpServerOptions options, Handler handler = {}) {
    if (!handler) {
      handler = [](const HttpRequest& r) -> HandlerResult {
        HttpResponse out;
        out.content_type = "text/plain";
        out.body = r.method + " " + r.path + " " + std::to_string(r.body.size());
        return out;
      };
    }
    auto s = HttpServer::Start(options, server_tls_, std::move(handler));
    ASSERT_TRUE(s.has_value()) << s.error().ToString();
    server_ = std::move(*s);
  }

  // A raw TCP (and, when `tls`, TLS) connection from 127.0.0.<host>.
  std::unique_ptr<Raw> Connect(int host, bool tls = true) {
    auto r = std::make_unique<Raw>();
    r->fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    timeval tv{5, 0};
    ::setsockopt(r->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    sockaddr_in src{};
    src.sin_family = AF_INET;
    src.sin_addr.s_addr = htonl((127u << 24) + static_cast<std::uint32_t>(host));
    ::bind(r->fd, reinterpret_cast<sockaddr*>(&src), sizeof(src));
    sockaddr_in dst{};
    dst.sin_family = AF_INET;
    dst.sin_port = htons(server_->port());
    dst.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(r->fd, reinterpret_cast<sockaddr*>(&dst), sizeof(dst)) != 0) {
      return nullptr;
    }
    if (tls) {
      r->ssl = SSL_new(attacker_tls_);
      SSL_set_fd(r->ssl, r->fd);
      if (SSL_connect(r->ssl) != 1) {
        ERR_clear_error();
        return nullptr;
      }
    }
    return r;
  }

  bool HealthyFrom127001() {
    auto c = testing::HttpsConnection::Connect(client_tls_, server_->port(), 5s);
    if (!c) {
      return false;
    }
    auto r = (*c)->Request("GET", "/healthz");
    return r && r->status == 200;
  }

  testing::TempDir dir_;
  testing::TestPki pki_;
  SSL_CTX* server_tls_ = nullptr;
  SSL_CTX* attacker_tls_ = nullptr;
  std::shared_ptr<testing::TlsClientContext> client_tls_;
  std::unique_ptr<HttpServer> server_;
};

TEST_F(HttpServerTest, Regression_Issue14_HalfClosedClientStillGetsItsAnswer) {
  StartServer({});
  auto c = Connect(2);
  ASSERT_NE(c, nullptr);
  ASSERT_TRUE(c->Write("GET /half HTTP/1.1\r\nHost: c\r\n\r\n"));
  ASSERT_EQ(::shutdown(c->fd, SHUT_WR), 0);  // the client is done sending
  const std::string answer = c->ReadAll();
  EXPECT_TRUE(answer.starts_with("HTTP/1.1 200 OK\r\n")) << answer;
  EXPECT_NE(answer.find("GET /half 0"), std::string::npos) << answer;
}

TEST_F(HttpServerTest, Regression_Issue14_StrictFramingIs400OnTheWire) {
  StartServer({});
  for (const char* bad :
       {"POST /x HTTP/1.1\r\nHost: c\r\nContent-Length: 1\r\nContent-Length: 2"
        "\r\n\r\nab",
        "GET /x HTTP/1.1\r\nHost : c\r\n\r\n",
        "GET /x HTTP/1.1\r\nHost: c\r\nX-A: 1\r\n folded\r\n\r\n",
        "GET /x HTTP/1.1\r\nHost: c\nX-A: 1\r\n\r\n", "GET /x HTTP/1.9\r\n\r\n"}) {
    auto c = Connect(2);
    ASSERT_NE(c, nullptr);
    ASSERT_TRUE(c->Write(bad));
    EXPECT_TRUE(c->ReadAll().starts_with("HTTP/1.1 400 ")) << bad;
  }
}

TEST_F(HttpServerTest, Regression_Issue14_HandshakeHasAnOverallDeadline) {
  HttpServerOptions o;
  o.handshake_timeout = 1s;
  StartServer(o);
  auto c = Connect(2, /*tls=*/false);
  ASSERT_NE(c, nullptr);
  // Dribble a ClientHello-looking record, one byte every 200 ms: each byte would have
  // restarted an idle timer.
  const auto start = Steady::now();
  const char record[] = "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03";
  bool closed = false;
  for (std::size_t i = 0; i < sizeof(record) - 1 && !closed; ++i) {
    [[maybe_unused]] ssize_t n = ::send(c->fd, &record[i], 1, MSG_NOSIGNAL);
    closed = c->ClosedWithin(200ms);
  }
  closed = closed || c->ClosedWithin(1000ms);
  EXPECT_TRUE(closed);
  EXPECT_LT(Steady::now() - start, 2500ms);
  EXPECT_GE(server_->Stats().deadlines_expired, 1u);
}

TEST_F(HttpServerTest, Regression_Issue14_RequestHeadHasAnOverallDeadline) {
  HttpServerOptions o;
  o.request_timeout = 1s;
  StartServer(o);
  auto c = Connect(2);
  ASSERT_NE(c, nullptr);
  const std::string head = "GET /slow HTTP/1.1\r\nHost: c\r\nX-Slow: aaaaaaaaaaaaaaaaaaaa";
  const auto start = Steady::now();
  bool closed = false;
  for (std::size_t i = 0; i < head.size() && !closed; ++i) {
    closed = !c->Write(head.substr(i, 1)) || c->ClosedWithin(200ms);
  }
  EXPECT_TRUE(closed);
  EXPECT_LT(Steady::now() - start, 2500ms);
}

TEST_F(HttpServerTest, Regression_Issue14_ClientThatNeverReadsIsClosedAtTheWriteDeadline) {
  HttpServerOptions o;
  o.write_timeout = 1s;
  o.min_bytes_per_second = 64 * 1024 * 1024;  // the deadline is write_timeout alone
  StartServer(o, [](const HttpRequest&) -> HandlerResult {
    HttpResponse r;
    r.body = std::string(4 * 1024 * 1024, 'x');  // far more than the socket buffers hold
    return r;
  });
  auto c = Connect(2);
  ASSERT_NE(c, nullptr);
  ASSERT_TRUE(c->Write("GET /big HTTP/1.1\r\nHost: c\r\n\r\n"));
  std::this_thread::sleep_for(3500ms);  // never read
  std::uint64_t open = server_->Stats().connections_open;
  EXPECT_EQ(open, 0u);
  EXPECT_GE(server_->Stats().deadlines_expired, 1u);
}

TEST_F(HttpServerTest, Regression_Issue14_ConnectionsPerAddressAreCapped) {
  HttpServerOptions o;
  o.max_connections_per_address = 3;
  StartServer(o);
  std::vector<std::unique_ptr<Raw>> held;
  for (int i = 0; i < 3; ++i) {
    held.push_back(Connect(2));
    ASSERT_NE(held.back(), nullptr);
  }
  EXPECT_EQ(Connect(2), nullptr);  // the fourth from 127.0.0.2 is closed at once
  EXPECT_NE(Connect(3), nullptr);  // another address is not affected
  EXPECT_TRUE(HealthyFrom127001());
  EXPECT_GE(server_->Stats().connections_refused, 1u);
}

TEST_F(HttpServerTest, Regression_Issue14_NewcomerDisplacesSilentConnectionsWhenFull) {
  HttpServerOptions o;
  o.max_connections = 6;
  StartServer(o);
  std::vector<std::unique_ptr<Raw>> silent;
  for (int host : {2, 2, 2, 3, 3, 4}) {
    silent.push_back(Connect(host, /*tls=*/false));  // never say anything
  }
  std::this_thread::sleep_for(200ms);
  ASSERT_EQ(server_->Stats().connections_open, 6u);
  EXPECT_TRUE(HealthyFrom127001());
  EXPECT_GE(server_->Stats().connections_evicted, 1u);
  EXPECT_TRUE(silent[0]->ClosedWithin(1000ms));  // the oldest of the heaviest address
}

TEST_F(HttpServerTest, Regression_Issue14_BodiesInMemoryAreBoundedTogether) {
  HttpServerOptions o;
  o.max_buffered_body_bytes = 100000;
  StartServer(o);
  auto first = Connect(2);
  ASSERT_NE(first, nullptr);
  ASSERT_TRUE(first->Write("POST /a HTTP/1.1\r\nHost: c\r\nContent-Length: 80000\r\n\r\nxx"));
  std::this_thread::sleep_for(200ms);
  auto second = Connect(3);
  ASSERT_NE(second, nullptr);
  ASSERT_TRUE(second->Write("POST /b HTTP/1.1\r\nHost: c\r\nContent-Length: 80000\r\n\r\n"));
  EXPECT_TRUE(second->ReadAll().starts_with("HTTP/1.1 503 ")) << "over the shared budget";
  auto whole = Connect(4);  // head and body in one write count too
  ASSERT_NE(whole, nullptr);
  ASSERT_TRUE(whole->Write("POST /c HTTP/1.1\r\nHost: c\r\nContent-Length: 30000\r\n\r\n" +
                           std::string(30000, 'y')));
  EXPECT_TRUE(whole->ReadAll().starts_with("HTTP/1.1 503 "));
  ASSERT_TRUE(first->Write(std::string(80000 - 2, 'x')));
  EXPECT_NE(first->ReadAll().find("POST /a 80000"), std::string::npos);
}

TEST_F(HttpServerTest, Regression_Issue14_MaxConnectionsStaysBelowTheDescriptorLimit) {
  rlimit lim{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &lim), 0);
  if (lim.rlim_max == RLIM_INFINITY || lim.rlim_max > 1000000) {
    GTEST_SKIP() << "no finite descriptor limit to stay below";
  }
  HttpServerOptions o;
  o.max_connections = lim.rlim_max + 1000;
  StartServer(o);
  EXPECT_LT(server_->Stats().max_connections, lim.rlim_max);
  EXPECT_GT(server_->Stats().max_connections, 0u);
}

TEST_F(HttpServerTest, Regression_Issue14_OutOfDescriptorsDoesNotSpin) {
  StartServer({});
  ASSERT_TRUE(HealthyFrom127001());
  const std::uint16_t port = server_->port();
  // A child opens connections while this process (the server's) has no descriptor left.
  int go[2];
  ASSERT_EQ(::pipe(go), 0);
  const pid_t child = ::fork();
  if (child == 0) {
    char c;
    [[maybe_unused]] ssize_t r = ::read(go[0], &c, 1);
    int fds[50];
    for (int& fd : fds) {
      fd = ::socket(AF_INET, SOCK_STREAM, 0);
      sockaddr_in dst{};
      dst.sin_family = AF_INET;
      dst.sin_port = htons(port);
      dst.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      [[maybe_unused]] int rc = ::connect(fd, reinterpret_cast<sockaddr*>(&dst), sizeof(dst));
    }
    ::sleep(3);
    ::_exit(0);
  }
  rlimit saved{};
  ::getrlimit(RLIMIT_NOFILE, &saved);
  int highest = ::dup(0);  // the lowest free descriptor
  ::close(highest);
  const rlimit tight{static_cast<rlim_t>(highest), saved.rlim_max};
  const int warnings_before = CountingSink::warnings.load();
  rusage before{};
  ::getrusage(RUSAGE_SELF, &before);
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &tight), 0);
  [[maybe_unused]] ssize_t w = ::write(go[1], "g", 1);
  std::this_thread::sleep_for(2s);
  rusage after{};
  ::getrusage(RUSAGE_SELF, &after);
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &saved), 0);
  ::close(go[0]);
  ::close(go[1]);
  int status = 0;
  ::waitpid(child, &status, 0);
  auto cpu = [](const rusage& u) {
    return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
           static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
  };
  EXPECT_LT(cpu(after) - cpu(before), 0.5) << "CPU seconds spent in 2 s without descriptors";
  EXPECT_LE(CountingSink::warnings.load() - warnings_before, 2) << "warnings are rate-limited";
  EXPECT_TRUE(HealthyFrom127001()) << "serves again once descriptors are back";
}

TEST_F(HttpServerTest, ParkedPollIsAnsweredByPublishAndFreedWhenTheClientLeaves) {
  StartServer({}, [](const HttpRequest& r) -> HandlerResult {
    Park p;
    p.key = r.path;
    p.min_version = 1;
    p.deadline = Steady::now() + 30s;
    p.on_timeout.body = "timeout";
    return p;
  });
  auto waiting = Connect(2);
  auto leaving = Connect(3);
  ASSERT_NE(waiting, nullptr);
  ASSERT_NE(leaving, nullptr);
  ASSERT_TRUE(waiting->Write("GET /k HTTP/1.1\r\nHost: c\r\n\r\n"));
  ASSERT_TRUE(leaving->Write("GET /other HTTP/1.1\r\nHost: c\r\n\r\n"));
  const auto deadline = Steady::now() + 5s;
  while (server_->Stats().parked < 2 && Steady::now() < deadline) {
    std::this_thread::sleep_for(10ms);
  }
  ASSERT_EQ(server_->Stats().parked, 2u);
  ::shutdown(leaving->fd, SHUT_RDWR);
  while (server_->Stats().parked > 1 && Steady::now() < deadline) {
    std::this_thread::sleep_for(10ms);
  }
  EXPECT_EQ(server_->Stats().parked, 1u) << "a client that left is not held until the deadline";
  HttpResponse pushed;
  pushed.body = "version 2";
  server_->Publish("/k", 2, pushed);
  EXPECT_NE(waiting->ReadAll().find("version 2"), std::string::npos);
}

}  // namespace
}  // namespace ward::collector::internal
