// SPDX-License-Identifier: Apache-2.0
// CollectorTransport written directly on OpenSSL and the OS's sockets (internal/socket.h: POSIX
// sockets or Winsock; no Poco in the agent: its
// shared libraries cost the agent several MB of resident pages). The CA is pinned (only the
// configured file is trusted) and OpenSSL checks the host name or IP address during the
// handshake, so a wrong server fails before any request byte is written.
//
// Sockets are non-blocking and every wait is a poll() bounded by a deadline. Cancel() only calls
// shutdown(2) on the sockets in use: that wakes their poll() without touching the TLS state the
// calling thread owns. Bytes go through a small BIO on the socket layer, which sends with
// MSG_NOSIGNAL on POSIX, so a collector that hangs up never raises SIGPIPE in the agent.
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <set>
#include <system_error>
#include <vector>

#include "internal/socket.h"
#include "ward/agent/sync/collector_url.h"
#include "ward/agent/sync/http_response_parser.h"
#include "ward/agent/sync/transport.h"

namespace ward::agent::sync {
namespace {

using SteadyClock = std::chrono::steady_clock;
using internal::kNoSocket;
using internal::SocketHandle;

constexpr std::size_t kMaxIdleConnections = 4;
constexpr const char* kCipherList = "HIGH:!aNULL:!MD5:!RC4:!3DES";

// One TCP + TLS connection. Owned by one thread at a time; only `fd` is read by Cancel().
struct Connection {
  ~Connection() {
    if (ssl != nullptr) {
      if (healthy) {
        SSL_shutdown(ssl);  // one close_notify, never waited for
      }
      SSL_free(ssl);  // frees the BIO too
    }
    if (fd != kNoSocket) {
      internal::CloseSocket(fd);
    }
  }
  SocketHandle fd = kNoSocket;
  bool eof = false;    // the peer closed its side (read by the BIO's BIO_CTRL_EOF)
  int last_error = 0;  // the OS error of the BIO's last failed send or receive
  SSL* ssl = nullptr;
  bool healthy = false;  // handshake done and no error since: may be kept alive
};
using ConnectionPtr = std::unique_ptr<Connection>;

// --- A socket BIO on the socket layer's send/recv.
int BioWrite(BIO* bio, const char* data, std::size_t len, std::size_t* written) {
  BIO_clear_retry_flags(bio);
  auto* c = static_cast<Connection*>(BIO_get_data(bio));
  bool would_block = false;
  const std::int64_t n = internal::SendSome(c->fd, data, len, would_block, c->last_error);
  if (n >= 0) {
    *written = static_cast<std::size_t>(n);
    return 1;
  }
  if (would_block) {
    BIO_set_retry_write(bio);
  }
  return 0;
}

int BioRead(BIO* bio, char* data, std::size_t len, std::size_t* read) {
  BIO_clear_retry_flags(bio);
  auto* c = static_cast<Connection*>(BIO_get_data(bio));
  bool would_block = false;
  const std::int64_t n = internal::ReceiveSome(c->fd, data, len, would_block, c->last_error);
  if (n > 0) {
    *read = static_cast<std::size_t>(n);
    return 1;
  }
  if (n == 0) {
    c->eof = true;
    return 0;
  }
  if (would_block) {
    BIO_set_retry_read(bio);
  }
  return 0;
}

long BioCtrl(BIO* bio, int cmd, long /*num*/, void* /*ptr*/) {
  switch (cmd) {
    case BIO_CTRL_FLUSH:
      return 1;
    case BIO_CTRL_EOF:
      return static_cast<Connection*>(BIO_get_data(bio))->eof ? 1 : 0;
    default:
      return 0;
  }
}

int BioCreate(BIO* bio) {
  BIO_set_init(bio, 1);
  return 1;
}

BIO_METHOD* SocketBioMethod() {
  static BIO_METHOD* method = [] {
    BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "ward socket");
    if (m != nullptr) {
      BIO_meth_set_write_ex(m, BioWrite);
      BIO_meth_set_read_ex(m, BioRead);
      BIO_meth_set_ctrl(m, BioCtrl);
      BIO_meth_set_create(m, BioCreate);
    }
    return m;
  }();
  return method;
}

// --- Error texts. The library's error strings are not loaded (fewer pages touched), so the
// common failures get our own words and the rest the packed error code.
std::string OpenSslErrorText() {
  const unsigned long code = ERR_peek_last_error();
  std::string text;
  if (code == 0) {
    text = "no further detail";
  } else if (ERR_GET_LIB(code) == ERR_LIB_SSL) {
    switch (ERR_GET_REASON(code)) {
      case SSL_R_WRONG_VERSION_NUMBER:
        text = "the server does not speak TLS";
        break;
      case SSL_R_UNSUPPORTED_PROTOCOL:
      case SSL_R_TLSV1_ALERT_PROTOCOL_VERSION:
        text = "no common TLS version (1.2 or newer is required)";
        break;
      case SSL_R_NO_CIPHERS_AVAILABLE:
      case SSL_R_SSLV3_ALERT_HANDSHAKE_FAILURE:
        text = "no common cipher";
        break;
      case SSL_R_UNEXPECTED_EOF_WHILE_READING:
        text = "the connection closed in the middle of TLS";
        break;
      default:
        break;
    }
  }
  if (text.empty()) {
    char buf[256] = {};
    ERR_error_string_n(code, buf, sizeof(buf));
    text = buf;
  }
  ERR_clear_error();
  return text;
}

bool IsTimeout(const Error& e) { return e.os_code() == internal::TimedOutCode(); }

class HttpsTransport final : public CollectorTransport {
 public:
  HttpsTransport(HttpsTransportOptions options, SSL_CTX* ctx, CollectorUrl url)
      : options_(std::move(options)), ctx_(ctx), url_(std::move(url)) {}

  ~HttpsTransport() override {
    {
      std::scoped_lock lock(mu_);
      idle_.clear();
    }
    SSL_CTX_free(ctx_);
  }

  Result<CollectorReply> Post(std::string_view path, std::string_view body, std::string_view bearer,
                              std::chrono::seconds timeout) override {
    const std::string where = "POST " + options_.url + std::string(path);
    const std::string request = Request(path, body, bearer);
    // A kept-alive connection may have been closed by the collector (restart, idle timeout):
    // one retry on a fresh connection. Every device call is idempotent.
    for (int attempt = 0;; ++attempt) {
      bool reused = false;
      auto conn = Acquire(where, reused);
      if (!conn.has_value()) {
        return std::unexpected(conn.error());
      }
      bool nothing_back = false;  // the connection died before any byte of an answer
      auto reply = Exchange(**conn, where, request, timeout, nothing_back);
      if (!reply.has_value()) {
        (*conn)->healthy = false;  // e.g. a timeout: an answer may still be on its way
      }
      Release(std::move(*conn));
      // Retry only when the reused connection died before answering (not after a timeout:
      // that would double the wait).
      if (reply.has_value() || !reused || !nothing_back || attempt > 0 || cancelled_.load() ||
          IsTimeout(reply.error())) {
        return reply;
      }
    }
  }

  void Cancel() override {
    std::scoped_lock lock(mu_);
    cancelled_ = true;
    for (Connection* c : active_) {
      internal::ShutdownSocket(c->fd);
    }
    idle_.clear();
  }

 private:
  std::string Request(std::string_view path, std::string_view body, std::string_view bearer) const {
    std::string host = url_.host.find(':') != std::string::npos ? "[" + url_.host + "]" : url_.host;
    if (url_.port != 443) {
      host += ":" + std::to_string(url_.port);
    }
    std::string r = "POST " + url_.base_path + std::string(path) + " HTTP/1.1\r\nHost: " + host +
                    "\r\nContent-Type: application/x-protobuf\r\nContent-Length: " +
                    std::to_string(body.size()) + "\r\nConnection: keep-alive\r\n";
    if (!bearer.empty()) {
      r += "Authorization: Bearer " + std::string(bearer) + "\r\n";
    }
    r += "\r\n";
    r += body;
    return r;
  }

  std::unexpected<Error> Failure(const std::string& where, const std::string& what,
                                 int os_code = 0) const {
    if (cancelled_.load()) {
      return MakeError(ErrorCode::kUnavailable, where + ": cancelled (sync is stopping)");
    }
    return MakeError(ErrorCode::kUnavailable, where + ": " + what, os_code);
  }

  // Waits until the socket is ready for `events`, at most until `deadline`.
  Status Wait(const Connection& c, bool for_write, SteadyClock::time_point deadline,
              const std::string& where, std::string_view doing) const {
    for (;;) {
      const auto left =
          std::chrono::ceil<std::chrono::milliseconds>(deadline - SteadyClock::now()).count();
      if (left <= 0) {
        return Failure(where, "timed out " + std::string(doing), internal::TimedOutCode());
      }
      int error = 0;
      const int n = internal::WaitSocket(
          c.fd, for_write, static_cast<int>(std::min<long long>(left, 1 << 30)), error);
      if (n > 0) {
        return OkStatus();
      }
      if (n < 0) {
        return Failure(where, "poll failed: " + internal::SocketErrorText(error), error);
      }
    }
  }

  // Waits for what the last SSL call asked for; errors for anything else.
  Status AfterSslCall(Connection& c, int ret, SteadyClock::time_point deadline,
                      const std::string& where, std::string_view doing) {
    const int err = SSL_get_error(c.ssl, ret);
    if (err == SSL_ERROR_WANT_READ) {
      return Wait(c, false, deadline, where, doing);
    }
    if (err == SSL_ERROR_WANT_WRITE) {
      return Wait(c, true, deadline, where, doing);
    }
    c.healthy = false;
    const int saved_errno = c.last_error;
    if (err == SSL_ERROR_SYSCALL && ERR_peek_error() == 0) {
      ERR_clear_error();
      if (c.eof || saved_errno == 0) {
        return Failure(where, "the collector closed the connection " + std::string(doing));
      }
      return Failure(where,
                     "the connection broke " + std::string(doing) + ": " +
                         internal::SocketErrorText(saved_errno),
                     saved_errno);
    }
    if (err == SSL_ERROR_ZERO_RETURN || (err == SSL_ERROR_SSL && c.eof)) {
      ERR_clear_error();
      return Failure(where, "the collector closed the connection " + std::string(doing));
    }
    return Failure(where, "TLS failed " + std::string(doing) + ": " + OpenSslErrorText());
  }

  Result<ConnectionPtr> Acquire(const std::string& where, bool& reused) {
    {
      std::scoped_lock lock(mu_);
      while (!cancelled_ && !idle_.empty()) {
        ConnectionPtr c = std::move(idle_.back());
        idle_.pop_back();
        // A kept-alive connection with something to read has been closed (or spoken on) by
        // the collector while idle: drop it rather than send on it.
        int error = 0;
        if (internal::WaitSocket(c->fd, false, 0, error) == 0) {
          reused = true;
          active_.insert(c.get());
          return c;
        }
      }
      if (cancelled_) {
        return MakeError(ErrorCode::kUnavailable, "sync is stopping");
      }
    }
    return Connect(where);
  }

  void Release(ConnectionPtr c) {
    std::scoped_lock lock(mu_);
    active_.erase(c.get());
    if (c->healthy && !cancelled_ && idle_.size() < kMaxIdleConnections) {
      idle_.push_back(std::move(c));
    }
  }

  void Untrack(Connection* c) {
    std::scoped_lock lock(mu_);
    active_.erase(c);
  }

  Result<ConnectionPtr> Connect(const std::string& where) {
    const auto deadline = SteadyClock::now() + options_.connect_timeout;
    auto addresses = internal::ResolveTcp(url_.host, url_.port, url_.host_is_ip);
    if (!addresses.has_value()) {
      return Failure(where, addresses.error().message());
    }
    std::unique_ptr<Error> last;
    for (const internal::SocketAddress& a : *addresses) {
      auto c = ConnectTo(a, deadline, where);
      if (c.has_value()) {
        return c;
      }
      // A certificate the pinned CA does not vouch for is final: the next address is the same
      // collector.
      if (c.error().code() == ErrorCode::kUnauthenticated || cancelled_.load() ||
          IsTimeout(c.error())) {
        return std::unexpected(c.error());
      }
      last = std::make_unique<Error>(c.error());
    }
    if (last != nullptr) {
      return std::unexpected(*last);
    }
    return Failure(where, "no address for " + url_.host);
  }

  Result<ConnectionPtr> ConnectTo(const internal::SocketAddress& a,
                                  SteadyClock::time_point deadline, const std::string& where) {
    auto c = std::make_unique<Connection>();
    auto fd = internal::OpenStreamSocket(a.family);
    if (!fd.has_value()) {
      return Failure(where, fd.error().message(), static_cast<int>(fd.error().os_code()));
    }
    c->fd = *fd;
    {
      std::scoped_lock lock(mu_);
      if (cancelled_) {
        return MakeError(ErrorCode::kUnavailable, "sync is stopping");
      }
      active_.insert(c.get());
    }
    auto result = Handshake(*c, a, deadline, where);
    if (!result.has_value()) {
      Untrack(c.get());
      return std::unexpected(result.error());
    }
    return c;
  }

  Status Handshake(Connection& c, const internal::SocketAddress& a,
                   SteadyClock::time_point deadline, const std::string& where) {
    internal::SetNoDelay(c.fd);
    const int rc = internal::StartConnect(c.fd, a);
    if (rc != 0 && rc != internal::kInProgress) {
      return Failure(where, "cannot connect: " + internal::SocketErrorText(rc), rc);
    }
    if (rc != 0) {
      WARD_RETURN_IF_ERROR(Wait(c, true, deadline, where, "connecting"));
      if (const int err = internal::PendingConnectError(c.fd); err != 0) {
        return Failure(where, "cannot connect: " + internal::SocketErrorText(err), err);
      }
    }
    c.ssl = SSL_new(ctx_);
    BIO* bio = c.ssl != nullptr ? BIO_new(SocketBioMethod()) : nullptr;
    if (bio == nullptr) {
      return MakeError(ErrorCode::kInternal, where + ": cannot create a TLS connection");
    }
    BIO_set_data(bio, &c);
    SSL_set_bio(c.ssl, bio, bio);
    if (!url_.host_is_ip) {
      // SNI; SSL_set_tlsext_host_name() is this call behind a C cast.
      SSL_ctrl(c.ssl, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
               const_cast<char*>(url_.host.c_str()));
    }
    ERR_clear_error();
    for (;;) {
      const int ret = SSL_connect(c.ssl);
      if (ret == 1) {
        c.healthy = true;
        return OkStatus();
      }
      const long verify = SSL_get_verify_result(c.ssl);
      if (verify != X509_V_OK) {
        ERR_clear_error();
        return MakeError(ErrorCode::kUnauthenticated,
                         where + ": the collector's certificate is not signed by the pinned CA (" +
                             options_.ca_file.string() + ") or does not name " + url_.host +
                             "; nothing was sent (" + X509_verify_cert_error_string(verify) + ")");
      }
      WARD_RETURN_IF_ERROR(AfterSslCall(c, ret, deadline, where, "during the TLS handshake"));
    }
  }

  Result<CollectorReply> Exchange(Connection& c, const std::string& where,
                                  const std::string& request, std::chrono::seconds timeout,
                                  bool& nothing_back) {
    const auto deadline = SteadyClock::now() + timeout;
    nothing_back = true;
    ERR_clear_error();
    std::size_t sent = 0;
    while (sent < request.size()) {
      std::size_t n = 0;
      const int ret = SSL_write_ex(c.ssl, request.data() + sent, request.size() - sent, &n);
      if (ret == 1) {
        sent += n;
        continue;
      }
      WARD_RETURN_IF_ERROR(AfterSslCall(c, ret, deadline, where, "while sending"));
    }

    HttpResponseLimits limits;
    limits.max_body_bytes = options_.max_reply_bytes;
    HttpResponseParser parser(limits);
    char buf[16384];
    while (!parser.done()) {
      std::size_t n = 0;
      const int ret = SSL_read_ex(c.ssl, buf, sizeof(buf), &n);
      if (ret != 1) {
        const int err = SSL_get_error(c.ssl, ret);
        if (err == SSL_ERROR_ZERO_RETURN || (err == SSL_ERROR_SSL && c.eof)) {
          ERR_clear_error();  // close_notify: the end of a body without a length
          c.healthy = false;
          if (auto end = parser.FinishAtEof(); !end.has_value()) {
            return Failure(where, end.error().message());
          }
          break;
        }
        WARD_RETURN_IF_ERROR(AfterSslCall(c, ret, deadline, where, "while reading the answer"));
        continue;
      }
      nothing_back = false;
      auto used = parser.Feed(std::string_view(buf, n));
      if (!used.has_value()) {
        c.healthy = false;
        return Failure(where, used.error().message());
      }
      if (*used < n) {
        c.healthy = false;  // bytes after the answer: this connection is out of step
      }
    }
    if (!parser.head().keep_alive) {
      c.healthy = false;
    }
    CollectorReply reply;
    reply.status = parser.head().status;
    if (auto retry_after = parser.head().Find("retry-after"); retry_after.has_value()) {
      reply.retry_after = ParseRetryAfter(*retry_after);
    }
    reply.body = parser.TakeBody();
    return reply;
  }

  const HttpsTransportOptions options_;
  SSL_CTX* const ctx_;
  const CollectorUrl url_;

  std::mutex mu_;
  std::atomic<bool> cancelled_{false};
  std::set<Connection*> active_;     // guarded by mu_; their fd stays open while listed
  std::vector<ConnectionPtr> idle_;  // guarded by mu_
};

}  // namespace

Result<std::unique_ptr<CollectorTransport>> CreateHttpsTransport(
    const HttpsTransportOptions& options) {
  // No error strings and no openssl.cnf: the agent touches fewer pages, and its TLS settings are
  // all set below.
  static const bool ssl_ready =
      OPENSSL_init_ssl(OPENSSL_INIT_NO_LOAD_SSL_STRINGS | OPENSSL_INIT_NO_LOAD_CRYPTO_STRINGS |
                           OPENSSL_INIT_NO_LOAD_CONFIG,
                       nullptr) == 1;
  if (!ssl_ready) {
    return MakeError(ErrorCode::kInternal, "OpenSSL did not initialise");
  }
  WARD_ASSIGN_OR_RETURN(CollectorUrl url, ParseCollectorUrl(options.url));
  std::error_code ec;
  if (!std::filesystem::is_regular_file(options.ca_file, ec)) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "the collector CA file " + options.ca_file.string() + " does not exist");
  }
  std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> ctx(SSL_CTX_new(TLS_client_method()),
                                                        &SSL_CTX_free);
  auto setup_error = [&](const std::string& what) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "cannot set up TLS for " + options.url + ": " + what);
  };
  if (ctx == nullptr) {
    return setup_error(OpenSslErrorText());
  }
  SSL_CTX_set_min_proto_version(ctx.get(), TLS1_2_VERSION);
  SSL_CTX_set_options(ctx.get(), SSL_OP_NO_RENEGOTIATION);
  if (SSL_CTX_set_cipher_list(ctx.get(), kCipherList) != 1) {
    return setup_error("cipher list: " + OpenSslErrorText());
  }
  // Only the pinned CA: no SSL_CTX_set_default_verify_paths, so the system store is never read.
  if (SSL_CTX_load_verify_locations(ctx.get(), options.ca_file.string().c_str(), nullptr) != 1) {
    return setup_error("cannot load the CA file " + options.ca_file.string() + ": " +
                       OpenSslErrorText());
  }
  SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, nullptr);
  SSL_CTX_set_verify_depth(ctx.get(), 9);
  // OpenSSL checks the name (RFC 6125, IP SANs included) as part of chain verification.
  X509_VERIFY_PARAM* param = SSL_CTX_get0_param(ctx.get());
  const int ok = url.host_is_ip ? X509_VERIFY_PARAM_set1_ip_asc(param, url.host.c_str())
                                : X509_VERIFY_PARAM_set1_host(param, url.host.c_str(), 0);
  if (ok != 1) {
    return MakeError(ErrorCode::kInvalidArgument, "cannot verify against host " + url.host);
  }
  return std::make_unique<HttpsTransport>(options, ctx.release(), std::move(url));
}

}  // namespace ward::agent::sync
