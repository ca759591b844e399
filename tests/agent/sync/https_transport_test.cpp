// SPDX-License-Identifier: Apache-2.0
// The HTTPS transport against a scripted TLS server on loopback: pinning, name checks, keep-alive,
// retries, chunked answers, limits, timeouts and Cancel().
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <future>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "sync_test_support.h"
#include "ward/agent/sync/transport.h"
#include "ward/testing/tls_server.h"

namespace ward::agent::sync {
namespace {

using namespace std::chrono_literals;
using ward::testing::SeenRequest;
using ward::testing::TestTlsServer;
using ward::testing::TlsServerConnection;
using ward::testing::TlsServerPki;

std::string Answer(int status, const std::string& body, const std::string& extra = "") {
  return "HTTP/1.1 " + std::to_string(status) +
         " OK\r\nContent-Type: application/x-protobuf\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\nConnection: keep-alive\r\n" + extra + "\r\n" + body;
}

// Answers every request on the connection with 200 and the request's body.
void Echo(TlsServerConnection& conn) {
  while (auto r = conn.ReadRequest()) {
    if (!conn.Write(Answer(200, "echo:" + r->body))) {
      return;
    }
  }
}

// A loopback TCP socket that listens but never accepts: connects succeed (the kernel's
// backlog), TLS never starts. Its fd (the caller closes it), or -1; `port` is set.
int SilentListener(std::uint16_t& port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&addr), len) != 0 || ::listen(fd, 4) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    if (fd >= 0) {
      ::close(fd);
    }
    return -1;
  }
  port = ntohs(addr.sin_port);
  return fd;
}

class HttpsTransportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto pki = ward::testing::CreateTlsServerPki(dir_.path() / "site", names_);
    ASSERT_TRUE(pki.has_value()) << pki.error().ToString();
    pki_ = *pki;
  }

  void Serve(TestTlsServer::Handler handler, const std::string& address = "127.0.0.1") {
    auto server = TestTlsServer::Start(pki_, std::move(handler), address);
    ASSERT_TRUE(server.has_value()) << server.error().ToString();
    server_ = std::move(*server);
  }

  std::unique_ptr<CollectorTransport> Transport(const std::string& url,
                                                std::size_t max_reply_bytes = 1 << 20,
                                                const std::filesystem::path& ca = {}) {
    HttpsTransportOptions options;
    options.url = url;
    options.ca_file = ca.empty() ? pki_.ca_cert : ca;
    options.connect_timeout = 5s;
    options.max_reply_bytes = max_reply_bytes;
    auto t = CreateHttpsTransport(options);
    EXPECT_TRUE(t.has_value()) << t.error().ToString();
    return t.has_value() ? std::move(*t) : nullptr;
  }

  std::string Url() const { return "https://127.0.0.1:" + std::to_string(server_->port()); }

  testing::ScratchDir dir_;
  std::vector<std::string> names_ = {"127.0.0.1", "localhost"};
  TlsServerPki pki_;
  std::unique_ptr<TestTlsServer> server_;
};

TEST_F(HttpsTransportTest, PostsTheRequestAndReadsTheAnswer) {
  std::promise<SeenRequest> seen;
  ASSERT_NO_FATAL_FAILURE(Serve([&](TlsServerConnection& conn) {
    auto r = conn.ReadRequest();
    ASSERT_TRUE(r.has_value());
    seen.set_value(*r);
    conn.Write(Answer(429, "slow down", "Retry-After: 17\r\n"));
  }));
  auto t = Transport(Url() + "/base/");
  ASSERT_NE(t, nullptr);
  auto reply = t->Post("/v1/events", std::string("a\0b", 3), "tok", 10s);
  ASSERT_TRUE(reply.has_value()) << reply.error().ToString();
  EXPECT_EQ(reply->status, 429);
  EXPECT_EQ(reply->body, "slow down");
  EXPECT_EQ(reply->retry_after, std::optional<std::chrono::seconds>(17s));
  SeenRequest r = seen.get_future().get();
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.target, "/base/v1/events");
  EXPECT_EQ(r.body, std::string("a\0b", 3));
  EXPECT_EQ(r.headers["authorization"], "Bearer tok");
  EXPECT_EQ(r.headers["content-type"], "application/x-protobuf");
  EXPECT_EQ(r.headers["host"], "127.0.0.1:" + std::to_string(server_->port()));
}

TEST_F(HttpsTransportTest, NoBearerMeansNoAuthorizationHeader) {
  std::promise<SeenRequest> seen;
  ASSERT_NO_FATAL_FAILURE(Serve([&](TlsServerConnection& conn) {
    auto r = conn.ReadRequest();
    ASSERT_TRUE(r.has_value());
    seen.set_value(*r);
    conn.Write(Answer(200, ""));
  }));
  auto t = Transport(Url());
  auto reply = t->Post("/v1/enrol", "x", "", 10s);
  ASSERT_TRUE(reply.has_value()) << reply.error().ToString();
  EXPECT_EQ(reply->status, 200);
  EXPECT_EQ(reply->retry_after, std::nullopt);
  EXPECT_EQ(seen.get_future().get().headers.count("authorization"), 0u);
}

TEST_F(HttpsTransportTest, WrongCaIsUnauthenticatedAndNothingIsSent) {
  ASSERT_NO_FATAL_FAILURE(Serve(Echo));
  auto other = ward::testing::CreateTlsServerPki(dir_.path() / "other", names_);
  ASSERT_TRUE(other.has_value()) << other.error().ToString();
  auto t = Transport(Url(), 1 << 20, other->ca_cert);
  auto reply = t->Post("/v1/enrol", "secret", "", 10s);
  ASSERT_FALSE(reply.has_value());
  EXPECT_EQ(reply.error().code(), ErrorCode::kUnauthenticated) << reply.error().ToString();
  EXPECT_NE(reply.error().message().find("pinned CA (" + other->ca_cert.string() + ")"),
            std::string::npos)
      << reply.error().message();
  EXPECT_NE(reply.error().message().find("nothing was sent"), std::string::npos);
  EXPECT_EQ(server_->handshakes(), 0);
  EXPECT_EQ(server_->requests(), 0);
}

TEST_F(HttpsTransportTest, CertificateForAnotherHostNameIsRefused) {
  names_ = {"127.0.0.1"};  // not "localhost"
  ASSERT_NO_FATAL_FAILURE(SetUp());
  ASSERT_NO_FATAL_FAILURE(Serve(Echo));
  auto t = Transport("https://localhost:" + std::to_string(server_->port()));
  auto reply = t->Post("/v1/enrol", "secret", "", 10s);
  ASSERT_FALSE(reply.has_value());
  EXPECT_EQ(reply.error().code(), ErrorCode::kUnauthenticated) << reply.error().ToString();
  EXPECT_NE(reply.error().message().find("does not name localhost"), std::string::npos)
      << reply.error().message();
  EXPECT_EQ(server_->requests(), 0);
}

TEST_F(HttpsTransportTest, CertificateForAnotherIpAddressIsRefused) {
  names_ = {"localhost", "127.0.0.2"};
  ASSERT_NO_FATAL_FAILURE(SetUp());
  ASSERT_NO_FATAL_FAILURE(Serve(Echo));
  auto t = Transport(Url());
  auto reply = t->Post("/v1/enrol", "secret", "", 10s);
  ASSERT_FALSE(reply.has_value());
  EXPECT_EQ(reply.error().code(), ErrorCode::kUnauthenticated) << reply.error().ToString();
  EXPECT_NE(reply.error().message().find("does not name 127.0.0.1"), std::string::npos)
      << reply.error().message();
  EXPECT_EQ(server_->requests(), 0);
}

TEST_F(HttpsTransportTest, WorksOverIpv6) {
  names_ = {"::1"};
  ASSERT_NO_FATAL_FAILURE(SetUp());
  auto server = TestTlsServer::Start(pki_, Echo, "::1");
  if (!server.has_value()) {
    GTEST_SKIP() << "no IPv6 loopback here: " << server.error().ToString();
  }
  server_ = std::move(*server);
  auto t = Transport("https://[::1]:" + std::to_string(server_->port()));
  auto reply = t->Post("/v1/status", "six", "tok", 10s);
  ASSERT_TRUE(reply.has_value()) << reply.error().ToString();
  EXPECT_EQ(reply->body, "echo:six");
}

TEST_F(HttpsTransportTest, KeptAliveConnectionIsReused) {
  ASSERT_NO_FATAL_FAILURE(Serve(Echo));
  auto t = Transport(Url());
  for (int i = 0; i < 3; ++i) {
    auto reply = t->Post("/v1/status", std::to_string(i), "tok", 10s);
    ASSERT_TRUE(reply.has_value()) << reply.error().ToString();
    EXPECT_EQ(reply->body, "echo:" + std::to_string(i));
  }
  EXPECT_EQ(server_->connections(), 1);
  EXPECT_EQ(server_->requests(), 3);
}

TEST_F(HttpsTransportTest, ConnectionCloseAnswerIsNotReused) {
  ASSERT_NO_FATAL_FAILURE(Serve([](TlsServerConnection& conn) {
    if (conn.ReadRequest()) {
      conn.Write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok");
    }
  }));
  auto t = Transport(Url());
  for (int i = 0; i < 2; ++i) {
    auto reply = t->Post("/v1/status", "x", "tok", 10s);
    ASSERT_TRUE(reply.has_value()) << reply.error().ToString();
    EXPECT_EQ(reply->body, "ok");
  }
  EXPECT_EQ(server_->connections(), 2);
}

TEST_F(HttpsTransportTest, IdleConnectionClosedByTheServerIsReplacedWithoutAnError) {
  ASSERT_NO_FATAL_FAILURE(Serve([](TlsServerConnection& conn) {
    if (auto r = conn.ReadRequest()) {
      conn.Write(Answer(200, "once"));  // keep-alive promised, then hung up (idle timeout)
    }
  }));
  auto t = Transport(Url());
  ASSERT_TRUE(t->Post("/v1/status", "1", "tok", 10s).has_value());
  ASSERT_TRUE(testing::WaitUntil([&] { return server_->connections() == 1; }));
  std::this_thread::sleep_for(100ms);  // let the server's FIN arrive (a wait, not an assertion)
  auto reply = t->Post("/v1/status", "2", "tok", 10s);
  ASSERT_TRUE(reply.has_value()) << reply.error().ToString();
  EXPECT_EQ(reply->body, "once");
  EXPECT_EQ(server_->connections(), 2);
}

TEST_F(HttpsTransportTest, RequestLostOnAReusedConnectionIsRetriedOnceOnAFreshOne) {
  std::atomic<int> served{0};
  ASSERT_NO_FATAL_FAILURE(Serve([&](TlsServerConnection& conn) {
    const bool first = served.fetch_add(1) == 0;
    if (auto r = conn.ReadRequest()) {
      conn.Write(Answer(200, "first:" + r->body));
    }
    if (first) {
      conn.ReadRequest();  // the collector restarts: the request is read, never answered
      return;
    }
    Echo(conn);
  }));
  auto t = Transport(Url());
  ASSERT_TRUE(t->Post("/v1/events", "a", "tok", 10s).has_value());
  auto reply = t->Post("/v1/events", "b", "tok", 10s);
  ASSERT_TRUE(reply.has_value()) << reply.error().ToString();
  EXPECT_EQ(reply->body, "first:b");
  EXPECT_EQ(server_->connections(), 2);
  EXPECT_EQ(server_->requests(), 3);  // a, b (lost), b (retried)
}

TEST_F(HttpsTransportTest, FreshConnectionFailureIsNotRetried) {
  ASSERT_NO_FATAL_FAILURE(Serve([](TlsServerConnection& conn) { conn.ReadRequest(); }));
  auto t = Transport(Url());
  auto reply = t->Post("/v1/events", "a", "tok", 10s);
  ASSERT_FALSE(reply.has_value());
  EXPECT_EQ(reply.error().code(), ErrorCode::kUnavailable) << reply.error().ToString();
  EXPECT_NE(reply.error().message().find("closed the connection"), std::string::npos)
      << reply.error().message();
  EXPECT_EQ(server_->connections(), 1);
}

TEST_F(HttpsTransportTest, ChunkedAnswerIsReassembledAndTheConnectionKept) {
  ASSERT_NO_FATAL_FAILURE(Serve([](TlsServerConnection& conn) {
    while (conn.ReadRequest()) {
      conn.Write(
          "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
          "5;name=value\r\nhello\r\n1\r\n \r\n");
      conn.Write("6\r\nworld!\r\n0\r\nX-Checksum: 1\r\n\r\n");
    }
  }));
  auto t = Transport(Url());
  for (int i = 0; i < 2; ++i) {
    auto reply = t->Post("/v1/policy", "x", "tok", 10s);
    ASSERT_TRUE(reply.has_value()) << reply.error().ToString();
    EXPECT_EQ(reply->body, "hello world!");
  }
  EXPECT_EQ(server_->connections(), 1);
}

TEST_F(HttpsTransportTest, AnswerLongerThanTheLimitByContentLengthIsRefused) {
  ASSERT_NO_FATAL_FAILURE(Serve([](TlsServerConnection& conn) {
    if (conn.ReadRequest()) {
      conn.Write(Answer(200, std::string(2000, 'x')));
    }
  }));
  auto t = Transport(Url(), 1000);
  auto reply = t->Post("/v1/policy", "x", "tok", 10s);
  ASSERT_FALSE(reply.has_value());
  EXPECT_EQ(reply.error().code(), ErrorCode::kUnavailable);
  EXPECT_NE(reply.error().message().find("larger than 1000 bytes"), std::string::npos)
      << reply.error().message();
}

TEST_F(HttpsTransportTest, ChunkedAnswerLongerThanTheLimitIsRefused) {
  ASSERT_NO_FATAL_FAILURE(Serve([](TlsServerConnection& conn) {
    if (conn.ReadRequest()) {
      conn.Write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
      const std::string chunk = "100\r\n" + std::string(256, 'x') + "\r\n";
      for (int i = 0; i < 8 && conn.Write(chunk); ++i) {
      }
    }
  }));
  auto t = Transport(Url(), 1000);
  auto reply = t->Post("/v1/policy", "x", "tok", 10s);
  ASSERT_FALSE(reply.has_value());
  EXPECT_EQ(reply.error().code(), ErrorCode::kUnavailable);
  EXPECT_NE(reply.error().message().find("too large"), std::string::npos)
      << reply.error().message();
}

TEST_F(HttpsTransportTest, MalformedAnswerIsAnErrorWithWhatWasWrong) {
  ASSERT_NO_FATAL_FAILURE(Serve([](TlsServerConnection& conn) {
    if (conn.ReadRequest()) {
      conn.Write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n folded\r\n\r\nok");
    }
  }));
  auto t = Transport(Url());
  auto reply = t->Post("/v1/status", "x", "tok", 10s);
  ASSERT_FALSE(reply.has_value());
  EXPECT_EQ(reply.error().code(), ErrorCode::kUnavailable);
  EXPECT_NE(reply.error().message().find("header of the answer is malformed"), std::string::npos)
      << reply.error().message();
}

TEST_F(HttpsTransportTest, ServerThatStallsAfterTheRequestTimesOut) {
  ASSERT_NO_FATAL_FAILURE(Serve([](TlsServerConnection& conn) {
    conn.ReadRequest();
    conn.WaitForClose();
  }));
  auto t = Transport(Url());
  auto reply = t->Post("/v1/status", "x", "tok", 1s);
  ASSERT_FALSE(reply.has_value());
  EXPECT_EQ(reply.error().code(), ErrorCode::kUnavailable);
  EXPECT_NE(reply.error().message().find("timed out while reading the answer"), std::string::npos)
      << reply.error().message();
  EXPECT_EQ(server_->connections(), 1);
  // The timed-out connection is not kept: a late answer on it must never be taken for the
  // answer to the next call.
  auto next = t->Post("/v1/status", "y", "tok", 1s);
  ASSERT_FALSE(next.has_value());
  EXPECT_EQ(server_->connections(), 2);
}

TEST_F(HttpsTransportTest, ServerThatNeverSpeaksTlsTimesOutInTheHandshake) {
  // A listening socket nobody accepts from: TCP connects (the kernel's backlog), TLS never
  // starts.
  std::uint16_t port = 0;
  const int fd = SilentListener(port);
  ASSERT_GE(fd, 0);
  HttpsTransportOptions options;
  options.url = "https://127.0.0.1:" + std::to_string(port);
  options.ca_file = pki_.ca_cert;
  options.connect_timeout = 1s;
  auto t = CreateHttpsTransport(options);
  ASSERT_TRUE(t.has_value()) << t.error().ToString();
  auto reply = (*t)->Post("/v1/status", "x", "tok", 10s);
  ::close(fd);
  ASSERT_FALSE(reply.has_value());
  EXPECT_EQ(reply.error().code(), ErrorCode::kUnavailable);
  EXPECT_NE(reply.error().message().find("timed out during the TLS handshake"), std::string::npos)
      << reply.error().message();
}

TEST_F(HttpsTransportTest, CancelAlsoWakesACallStuckInTheHandshake) {
  std::uint16_t port = 0;
  const int fd = SilentListener(port);
  ASSERT_GE(fd, 0);
  HttpsTransportOptions options;
  options.url = "https://127.0.0.1:" + std::to_string(port);
  options.ca_file = pki_.ca_cert;
  options.connect_timeout = 600s;
  auto t = CreateHttpsTransport(options);
  ASSERT_TRUE(t.has_value()) << t.error().ToString();
  auto call =
      std::async(std::launch::async, [&] { return (*t)->Post("/v1/status", "x", "tok", 600s); });
  std::this_thread::sleep_for(300ms);  // let it connect and wait for the ServerHello
  (*t)->Cancel();
  ASSERT_EQ(call.wait_for(30s), std::future_status::ready) << "Cancel() did not wake the call";
  auto reply = call.get();
  ::close(fd);
  ASSERT_FALSE(reply.has_value());
  EXPECT_EQ(reply.error().code(), ErrorCode::kUnavailable);
  EXPECT_NE(reply.error().message().find("sync is stopping"), std::string::npos)
      << reply.error().message();
}

TEST_F(HttpsTransportTest, CancelWakesACallBlockedOnTheAnswerAndStopsLaterOnes) {
  ASSERT_NO_FATAL_FAILURE(Serve([](TlsServerConnection& conn) {
    conn.ReadRequest();
    conn.WaitForClose();  // a long-poll that never answers
  }));
  auto t = Transport(Url());
  auto call =
      std::async(std::launch::async, [&] { return t->Post("/v1/policy", "x", "tok", 600s); });
  ASSERT_TRUE(testing::WaitUntil([&] { return server_->requests() == 1; }));
  t->Cancel();
  ASSERT_EQ(call.wait_for(30s), std::future_status::ready) << "Cancel() did not wake the call";
  auto reply = call.get();
  ASSERT_FALSE(reply.has_value());
  EXPECT_EQ(reply.error().code(), ErrorCode::kUnavailable);
  EXPECT_NE(reply.error().message().find("cancelled"), std::string::npos)
      << reply.error().message();
  auto later = t->Post("/v1/status", "x", "tok", 10s);
  ASSERT_FALSE(later.has_value());
  EXPECT_EQ(later.error().code(), ErrorCode::kUnavailable);
  EXPECT_EQ(server_->connections(), 1);
}

TEST_F(HttpsTransportTest, MalformedUrlOrMissingCaIsInvalidArgument) {
  HttpsTransportOptions options;
  options.ca_file = pki_.ca_cert;
  for (const char* url :
       {"http://127.0.0.1:1", "https://", "https://host:0", "https://h:99999", "https://[::1",
        "https://user@host:1", "https://host:1/a?b=c", "ftp://host"}) {
    options.url = url;
    auto t = CreateHttpsTransport(options);
    ASSERT_FALSE(t.has_value()) << url;
    EXPECT_EQ(t.error().code(), ErrorCode::kInvalidArgument) << url;
    EXPECT_NE(t.error().message().find("must look like https://host:port"), std::string::npos)
        << t.error().message();
  }
  options.url = "https://127.0.0.1:1";
  options.ca_file = dir_.path() / "missing.pem";
  auto t = CreateHttpsTransport(options);
  ASSERT_FALSE(t.has_value());
  EXPECT_EQ(t.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(t.error().message().find("does not exist"), std::string::npos);
}

}  // namespace
}  // namespace ward::agent::sync
