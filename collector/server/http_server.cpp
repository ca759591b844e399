// SPDX-License-Identifier: Apache-2.0
// The device-facing HTTP/1.1-over-TLS server on Boost.Asio: one io_context thread runs every
// connection as a coroutine (TLS, parsing, writing, parking); handlers run on a small thread
// pool. Requests are framed by ParseHttpRequest (Boost.Beast's parser plus RFC 9112 checks).
// Every state a client controls has an overall deadline, enforced by one sweep (see
// docs/adr/0006-collector-http-on-beast-asio.md and docs/security.md).
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <fcntl.h>
#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <list>
#include <optional>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "internal/http_server.h"
#include "ward/collector/server/http_parse.h"
#include "ward/common/log.h"

namespace ward::collector::internal {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using SteadyClock = std::chrono::steady_clock;
using asio::awaitable;

constexpr auto kUseTuple = asio::as_tuple(asio::use_awaitable);
constexpr std::size_t kReadChunk = 16 * 1024;
// Descriptors kept free for everything that is not a connection (storage, logs, PostgreSQL).
constexpr std::uint64_t kFdReserve = 64;
constexpr auto kSweepEvery = std::chrono::milliseconds(200);
constexpr auto kAcceptPause = std::chrono::milliseconds(100);
constexpr auto kWarnEvery = std::chrono::seconds(10);

std::string Serialize(const HttpResponse& r, bool keep_alive) {
  std::string out =
      "HTTP/1.1 " + std::to_string(r.status) + " " + std::string(HttpReason(r.status));
  out += "\r\nContent-Type: " + r.content_type;
  out += "\r\nContent-Length: " + std::to_string(r.body.size());
  out += keep_alive ? "\r\nConnection: keep-alive" : "\r\nConnection: close";
  for (const auto& [name, value] : r.headers) {
    out += "\r\n" + name + ": " + value;
  }
  out += "\r\n\r\n";
  out += r.body;
  return out;
}

HttpResponse PlainError(int status, std::string_view message) {
  HttpResponse r;
  r.status = status;
  r.content_type = "text/plain; charset=utf-8";
  r.body = std::string(message) + "\n";
  return r;
}

// What a connection is doing; each state the client controls has a deadline.
enum class Phase : std::uint8_t {
  kHandshake,   // TLS handshake: handshake_timeout overall
  kIdle,        // keep-alive, before the first byte of a request: idle_timeout
  kHead,        // request head: request_timeout from its first byte
  kBody,        // body: request_timeout + length / min_bytes_per_second from the end of the head
  kProcessing,  // a handler runs: nothing is read (no deadline; the server's own time)
  kParked,      // long-poll: until Publish or the Park deadline
  kWriting,     // response: write_timeout + size / min_bytes_per_second
};

struct Session {
  Session(HttpServer::Impl& server, tcp::socket s, std::uint32_t address)
      : owner(server), socket(std::move(s)), wake(socket.get_executor()), ip(address) {}
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  void Arm(Phase p, SteadyClock::time_point when) {
    phase = p;
    deadline = when;
  }

  HttpServer::Impl& owner;
  tcp::socket socket;
  asio::steady_timer wake;  // parked: expires at the Park deadline; Publish cancels it
  SSL* ssl = nullptr;
  std::uint32_t ip;
  std::uint64_t id = 0;
  std::string peer;
  std::string in;  // bytes read and not yet used: one request head, or one body
  Phase phase = Phase::kHandshake;
  SteadyClock::time_point deadline;
  // While parked:
  std::string park_key;
  std::uint64_t park_min_version = 0;
  bool keep_alive = true;  // of the request being answered
  bool answered = false;   // parked: an answer is in `out`
  std::string out;         // the serialized answer to a parked poll
  bool out_sent = false;   // `out` was written whole already
  bool peer_gone = false;
  bool closing = false;  // closed by the server (deadline or eviction); its coroutine is ending
  std::list<Session*>::iterator at_address;  // in Address::sessions
};

// Connections from one IPv4 address, oldest first.
struct Address {
  std::list<Session*> sessions;
  std::size_t live = 0;  // sessions not being closed
};

// Whether the client holds the connection without having sent a whole request: what a new
// connection may displace when the server is full.
bool Evictable(const Session& s) {
  return !s.closing &&
         (s.phase == Phase::kHandshake || s.phase == Phase::kIdle || s.phase == Phase::kHead);
}

std::chrono::seconds TransferTime(std::size_t bytes, std::size_t per_second) {
  return std::chrono::seconds(bytes / std::max<std::size_t>(per_second, 1));
}

}  // namespace

std::string_view HttpReason(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 204:
      return "No Content";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 409:
      return "Conflict";
    case 411:
      return "Length Required";
    case 413:
      return "Payload Too Large";
    case 415:
      return "Unsupported Media Type";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 503:
      return "Service Unavailable";
    default:
      return "Status";
  }
}

class HttpServer::Impl {
 public:
  Impl(const HttpServerOptions& options, SSL_CTX* tls, Handler handler)
      : options_(options), tls_(tls), handler_(std::move(handler)) {
    SSL_CTX_up_ref(tls_);
  }

  ~Impl() {
    Stop();
    SSL_CTX_free(tls_);
  }

  Status Start() {
    // OpenSSL writes with write(2): a peer that vanished mid-response must cost an EPIPE, not
    // the process. (Process-wide, and what every server embedding this wants.)
    ::signal(SIGPIPE, SIG_IGN);
    ClampToDescriptorLimit();
    boost::system::error_code ec;
    const auto address = asio::ip::make_address_v4(options_.address, ec);
    if (ec) {
      return InvalidArgumentError("listen address '" + options_.address +
                                  "' is not an IPv4 address");
    }
    const tcp::endpoint endpoint(address, options_.port);
    // SO_REUSEADDR only: SO_REUSEPORT would let a second collector silently share the port.
    const std::string where = options_.address + ":" + std::to_string(options_.port);
    if (acceptor_.open(endpoint.protocol(), ec); ec) {
      return std::unexpected(ErrnoError("socket", ec.value()));
    }
    acceptor_.set_option(tcp::acceptor::reuse_address(true), ec);
    if (acceptor_.bind(endpoint, ec); ec) {
      return std::unexpected(ErrnoError("bind " + where, ec.value()));
    }
    if (acceptor_.listen(4096, ec); ec) {
      return std::unexpected(ErrnoError("listen " + where, ec.value()));
    }
    port_ = acceptor_.local_endpoint(ec).port();
    reserve_fd_ = OpenReserve();
    asio::co_spawn(ioc_, AcceptLoop(), asio::detached);
    asio::co_spawn(ioc_, SweepLoop(), asio::detached);
    loop_ = std::thread([this] {
      auto guard = asio::make_work_guard(ioc_);
      ioc_.run();
    });
    return OkStatus();
  }

  void Stop() {
    if (stopping_.exchange(true)) {
      return;
    }
    workers_.stop();
    workers_.join();  // a handler that is running finishes; queued ones are dropped
    ioc_.stop();
    if (loop_.joinable()) {
      loop_.join();
    }
    // Nothing runs now: close every connection here; their coroutines are destroyed with the
    // io_context.
    for (auto& [id, s] : sessions_) {
      boost::system::error_code ec;
      s->socket.close(ec);
    }
    boost::system::error_code ec;
    acceptor_.close(ec);
    if (reserve_fd_ >= 0) {
      ::close(reserve_fd_);
      reserve_fd_ = -1;
    }
  }

  std::uint16_t port() const { return port_; }

  void Publish(const std::string& key, std::uint64_t version, HttpResponse response) {
    if (stopping_.load()) {
      return;
    }
    asio::post(ioc_, [this, key, version, response = std::move(response)]() mutable {
      OnPublish(key, version, std::move(response));
    });
  }

  HttpServerStats Stats() const {
    HttpServerStats s;
    s.connections_open = open_.load();
    s.connections_total = total_.load();
    s.parked = parked_count_.load();
    s.handshake_failures = handshake_failures_.load();
    s.connections_refused = refused_.load();
    s.deadlines_expired = expired_.load();
    s.connections_evicted = evicted_.load();
    s.max_connections = max_connections_;
    return s;
  }

  // Session bookkeeping, on the loop thread (or in Stop, after it).
  void Forget(Session& s) {
    if (s.phase == Phase::kParked) {
      Unpark(s);
    }
    sessions_.erase(s.id);
    if (auto it = per_address_.find(s.ip); it != per_address_.end()) {
      it->second.sessions.erase(s.at_address);
      if (!s.closing) {
        --it->second.live;
      }
      if (it->second.sessions.empty()) {
        per_address_.erase(it);
      }
    }
    if (s.closing) {
      --closing_;
    }
    --open_;
  }

 private:
  // The descriptor limit bounds connections: raise the soft limit as far as the hard one allows,
  // then keep max_connections below it, so accept() never meets EMFILE in normal operation.
  void ClampToDescriptorLimit() {
    max_connections_ = options_.max_connections;
    rlimit lim{};
    if (::getrlimit(RLIMIT_NOFILE, &lim) != 0) {
      return;
    }
    const rlim_t want = static_cast<rlim_t>(options_.max_connections + kFdReserve);
    if (lim.rlim_cur != RLIM_INFINITY && lim.rlim_cur < want) {
      rlimit raised = lim;
      raised.rlim_cur = lim.rlim_max == RLIM_INFINITY ? want : std::min(want, lim.rlim_max);
      if (::setrlimit(RLIMIT_NOFILE, &raised) == 0) {
        lim = raised;
      }
    }
    if (lim.rlim_cur != RLIM_INFINITY && lim.rlim_cur < want) {
      const std::uint64_t fds = lim.rlim_cur;
      max_connections_ =
          fds > 2 * kFdReserve ? fds - kFdReserve : std::max<std::uint64_t>(fds / 2, 1);
      log::Warning("max_connections lowered to stay below the file descriptor limit",
                   {{"max_connections", max_connections_},
                    {"configured", options_.max_connections},
                    {"fd_limit", fds}});
    }
    per_address_cap_ = std::max<std::uint64_t>(
        1, std::min<std::uint64_t>(options_.max_connections_per_address, max_connections_ / 2));
  }

  static int OpenReserve() { return ::open("/dev/null", O_RDONLY | O_CLOEXEC); }

  awaitable<void> AcceptLoop() {
    asio::steady_timer pause(ioc_);
    while (!stopping_.load()) {
      auto [ec, socket] = co_await acceptor_.async_accept(kUseTuple);
      if (ec == asio::error::operation_aborted || !acceptor_.is_open()) {
        co_return;
      }
      if (ec) {
        if (ec == asio::error::no_descriptors || ec.value() == ENFILE ||
            ec == asio::error::no_buffer_space || ec == asio::error::no_memory) {
          OutOfDescriptors();
          pause.expires_after(kAcceptPause);
          co_await pause.async_wait(kUseTuple);
        }
        continue;
      }
      Accepted(std::move(socket));
    }
  }

  // EMFILE: the pending connection cannot be taken, and the listening socket stays readable.
  // Give the reserve descriptor back, take the connection and close it (the client learns at
  // once instead of hanging in the backlog), take the reserve again, and pause accepting briefly
  // so the loop does not spin. The warning is said at most every 10 s, with a count.
  void OutOfDescriptors() {
    ++refused_;
    if (reserve_fd_ >= 0) {
      ::close(reserve_fd_);
      reserve_fd_ = -1;
      const int fd = ::accept4(acceptor_.native_handle(), nullptr, nullptr, SOCK_CLOEXEC);
      if (fd >= 0) {
        ::close(fd);
      }
      reserve_fd_ = OpenReserve();
    }
    ++fd_warnings_suppressed_;
    const auto now = SteadyClock::now();
    if (now >= next_fd_warning_) {
      log::Warning("out of file descriptors; refusing connections for now",
                   {{"open_connections", open_.load()}, {"refused", fd_warnings_suppressed_}});
      fd_warnings_suppressed_ = 0;
      next_fd_warning_ = now + kWarnEvery;
    }
  }

  void Accepted(tcp::socket socket) {
    boost::system::error_code ec;
    const tcp::endpoint remote = socket.remote_endpoint(ec);
    if (ec || !remote.address().is_v4()) {
      return;
    }
    const std::uint32_t ip = remote.address().to_v4().to_uint();
    const auto here = per_address_.find(ip);
    const std::size_t from_here = here == per_address_.end() ? 0 : here->second.live;
    if (from_here >= per_address_cap_ ||
        (sessions_.size() - closing_ >= max_connections_ && !EvictOne())) {
      ++refused_;
      return;  // closed by the socket's destructor
    }
    socket.set_option(tcp::no_delay(true), ec);
    socket.native_non_blocking(true, ec);
    if (ec) {
      return;
    }
    auto s = std::make_shared<Session>(*this, std::move(socket), ip);
    s->id = next_id_++;
    s->peer = remote.address().to_string() + ":" + std::to_string(remote.port());
    s->Arm(Phase::kHandshake, SteadyClock::now() + options_.handshake_timeout);
    Address& address = per_address_[ip];
    s->at_address = address.sessions.insert(address.sessions.end(), s.get());
    ++address.live;
    sessions_.emplace(s->id, s.get());
    ++open_;
    ++total_;
    asio::co_spawn(ioc_, Serve(std::move(s)), asio::detached);
  }

  // The server is full: close the oldest connection that has not sent a whole request, from the
  // address holding the most connections. Slow or silent clients then cannot lock others out:
  // a newcomer displaces them, and the heaviest address pays first. False when there is none
  // (every connection is busy, parked or being answered).
  bool EvictOne() {
    Address* heaviest = nullptr;
    for (auto& [ip, address] : per_address_) {
      if (heaviest == nullptr || address.live > heaviest->live) {
        heaviest = &address;
      }
    }
    Session* victim = nullptr;
    if (heaviest != nullptr) {
      for (Session* s : heaviest->sessions) {
        if (Evictable(*s)) {
          victim = s;
          break;
        }
      }
    }
    if (victim == nullptr) {  // the heaviest address is all busy: anyone who is not
      for (auto& [id, s] : sessions_) {
        if (Evictable(*s)) {
          victim = s;
          break;
        }
      }
    }
    if (victim == nullptr) {
      return false;
    }
    ++evicted_;
    Close(*victim);
    return true;
  }

  void Close(Session& s) {
    if (s.closing) {
      return;
    }
    s.closing = true;
    ++closing_;
    if (auto it = per_address_.find(s.ip); it != per_address_.end()) {
      --it->second.live;
    }
    s.deadline = SteadyClock::time_point::max();
    boost::system::error_code ec;
    s.socket.close(ec);  // ends the session's coroutine with an error
  }

  // Closes every connection whose deadline passed; a closed socket ends its coroutine.
  awaitable<void> SweepLoop() {
    asio::steady_timer timer(ioc_);
    std::vector<Session*> expired;
    while (!stopping_.load()) {
      timer.expires_after(kSweepEvery);
      co_await timer.async_wait(kUseTuple);
      const auto now = SteadyClock::now();
      expired.clear();
      for (auto& [id, s] : sessions_) {
        if (!s->closing && s->phase != Phase::kProcessing && s->phase != Phase::kParked &&
            now >= s->deadline) {
          expired.push_back(s);
        }
      }
      for (Session* s : expired) {
        ++expired_;
        Close(*s);
      }
    }
  }

  static awaitable<bool> WaitFor(Session& s, tcp::socket::wait_type what) {
    auto [ec] = co_await s.socket.async_wait(what, kUseTuple);
    co_return !ec;
  }

  // Waits for what OpenSSL asked for; false when the connection is over.
  static awaitable<bool> WaitSsl(Session& s, int rc) {
    switch (SSL_get_error(s.ssl, rc)) {
      case SSL_ERROR_WANT_READ:
        co_return co_await WaitFor(s, tcp::socket::wait_read);
      case SSL_ERROR_WANT_WRITE:
        co_return co_await WaitFor(s, tcp::socket::wait_write);
      default:
        ERR_clear_error();
        co_return false;
    }
  }

  // Waits, holding no TLS state, until the client's first TLS record (its ClientHello) is
  // whole in the socket: a client that dribbles it costs the server a socket and this record,
  // not OpenSSL's handshake buffers (~40 KB). False when the bytes are not a TLS handshake
  // record or the client went away.
  static awaitable<bool> WholeFirstRecord(Session& s) {
    // Part of the record is in: readiness would report it again at once, so look again after a
    // pause that doubles (a real ClientHello arrives whole, or within a few milliseconds).
    asio::steady_timer later(s.socket.get_executor());
    auto pause = std::chrono::milliseconds(10);
    while (s.socket.is_open()) {
      std::array<unsigned char, 5> header{};
      const ssize_t n =
          ::recv(s.socket.native_handle(), header.data(), header.size(), MSG_PEEK | MSG_DONTWAIT);
      if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
        co_return false;
      }
      if (n > 0 && header[0] != 0x16) {
        co_return false;  // not a TLS handshake record
      }
      if (n < 0) {
        if (!co_await WaitFor(s, tcp::socket::wait_read)) {  // nothing yet
          co_return false;
        }
        continue;
      }
      if (n == static_cast<ssize_t>(header.size())) {
        const int length = (header[3] << 8) | header[4];
        int available = 0;
        if (::ioctl(s.socket.native_handle(), FIONREAD, &available) != 0) {
          co_return false;
        }
        if (available >= length + 5) {
          co_return true;
        }
      }
      later.expires_after(pause);
      co_await later.async_wait(kUseTuple);
      pause = std::min<std::chrono::milliseconds>(pause * 2, std::chrono::milliseconds(2560));
    }
    co_return false;
  }

  awaitable<bool> Handshake(Session& s) {
    if (!co_await WholeFirstRecord(s)) {
      co_return false;
    }
    s.ssl = SSL_new(tls_);
    SSL_set_fd(s.ssl, s.socket.native_handle());
    SSL_set_accept_state(s.ssl);
    // Publish may start a write that the coroutine finishes from a moved string.
    SSL_set_mode(s.ssl, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    while (s.socket.is_open()) {
      const int rc = SSL_do_handshake(s.ssl);
      if (rc == 1) {
        co_return true;
      }
      if (!co_await WaitSsl(s, rc)) {
        co_return false;
      }
    }
    co_return false;
  }

  // Appends up to `max` decrypted bytes to s.in; false when the peer closed or on error. The
  // scratch buffer is the loop's, so a waiting connection holds no read buffer of its own.
  awaitable<bool> ReadSome(Session& s, std::size_t max) {
    while (s.socket.is_open()) {
      const int n =
          SSL_read(s.ssl, scratch_.data(), static_cast<int>(std::min(max, scratch_.size())));
      if (n > 0) {
        s.in.append(scratch_.data(), static_cast<std::size_t>(n));
        co_return true;
      }
      if (!co_await WaitSsl(s, n)) {
        co_return false;
      }
    }
    co_return false;
  }

  static awaitable<bool> WriteAll(Session& s, const std::string& out) {
    std::size_t done = 0;
    while (done < out.size() && s.socket.is_open()) {
      const int n = SSL_write(s.ssl, out.data() + done, static_cast<int>(out.size() - done));
      if (n > 0) {
        done += static_cast<std::size_t>(n);
      } else if (!co_await WaitSsl(s, n)) {
        co_return false;
      }
    }
    co_return done == out.size();
  }

  // Runs the handler on the pool and resumes on the loop with its result.
  template <typename Token>
  auto RunHandler(HttpRequest request, Token&& token) {
    return asio::async_initiate<Token, void(HandlerResult)>(
        [this](auto completion, HttpRequest req) {
          asio::post(
              workers_, [this, req = std::move(req), completion = std::move(completion)]() mutable {
                HandlerResult result = handler_(req);
                req = HttpRequest{};  // free the body before the loop gets to it
                auto ex = asio::get_associated_executor(completion, ioc_.get_executor());
                asio::post(
                    ex, [completion = std::move(completion), result = std::move(result)]() mutable {
                      std::move(completion)(std::move(result));
                    });
              });
        },
        token, std::move(request));
  }

  awaitable<void> Serve(std::shared_ptr<Session> s) {
    if (!co_await Handshake(*s)) {
      ++handshake_failures_;
      co_return;
    }
    while (true) {
      // One request. Nothing is read outside this loop: while a handler runs, a poll is parked
      // or a response is written, the client's further bytes wait in its socket (backpressure).
      s->Arm(Phase::kIdle, SteadyClock::now() + options_.idle_timeout);
      std::size_t reserved = 0;
      HttpParse p;
      while (true) {
        p = ParseHttpRequest(s->in, options_.max_header_bytes, options_.max_body_bytes);
        if (p.outcome != HttpParse::Outcome::kIncomplete) {
          break;
        }
        const auto now = SteadyClock::now();
        if (s->phase == Phase::kIdle && !s->in.empty()) {
          s->Arm(Phase::kHead, now + options_.request_timeout);
        }
        std::size_t want = kReadChunk;
        if (p.head_complete) {
          if (s->phase != Phase::kBody) {
            if (!ReserveBody(p.content_length)) {
              co_await Refuse(*s, 503, "the server is busy; try again in a minute");
              co_return;
            }
            reserved = p.content_length;
            s->in.reserve(p.head_bytes + p.content_length);
            s->Arm(Phase::kBody, now + options_.request_timeout +
                                     TransferTime(p.content_length, options_.min_bytes_per_second));
          }
          want = p.head_bytes + p.content_length - s->in.size();
        }
        if (!co_await ReadSome(*s, want)) {
          ReleaseBody(reserved);
          co_return;
        }
      }
      if (p.outcome == HttpParse::Outcome::kError) {
        ReleaseBody(reserved);
        co_await Refuse(*s, p.error_status, p.error_message);
        co_return;
      }
      // A body that came with its head in one read is held until its handler is done too.
      if (reserved == 0 && p.content_length > 0) {
        if (!ReserveBody(p.content_length)) {
          co_await Refuse(*s, 503, "the server is busy; try again in a minute");
          co_return;
        }
        reserved = p.content_length;
      }
      s->in.erase(0, p.consumed);
      if (s->in.capacity() > 4 * kReadChunk) {
        s->in.shrink_to_fit();  // an idle keep-alive connection keeps no large buffer
      }
      p.request.peer = s->peer;
      s->keep_alive = p.keep_alive;
      s->Arm(Phase::kProcessing, SteadyClock::time_point::max());
      HandlerResult result = co_await RunHandler(std::move(p.request), asio::use_awaitable);
      ReleaseBody(reserved);
      std::string out;
      bool sent = false;
      if (auto* park = std::get_if<Park>(&result)) {
        if (!co_await ParkUntil(s, std::move(*park))) {
          co_return;  // the client went away
        }
        out = std::move(s->out);
        sent = s->out_sent;
        s->out = std::string();
      } else {
        out = Serialize(std::get<HttpResponse>(result), p.keep_alive);
      }
      s->Arm(Phase::kWriting, SteadyClock::now() + options_.write_timeout +
                                  TransferTime(out.size(), options_.min_bytes_per_second));
      if (!sent && !co_await WriteAll(*s, out)) {
        co_return;
      }
      if (!p.keep_alive) {
        SSL_shutdown(s->ssl);
        co_return;
      }
    }
  }

  // Answers an error and closes: nothing more from this client is read.
  awaitable<void> Refuse(Session& s, int status, std::string_view message) {
    const std::string out = Serialize(PlainError(status, message), false);
    s.Arm(Phase::kWriting, SteadyClock::now() + options_.write_timeout);
    if (co_await WriteAll(s, out)) {
      SSL_shutdown(s.ssl);
    }
  }

  // Bodies being received are held in memory until their handler is done; all of them
  // together stay under max_buffered_body_bytes.
  bool ReserveBody(std::size_t bytes) {
    if (buffered_body_ + bytes > options_.max_buffered_body_bytes) {
      return false;
    }
    buffered_body_ += bytes;
    return true;
  }
  void ReleaseBody(std::size_t bytes) { buffered_body_ -= std::min(bytes, buffered_body_); }

  // Holds the connection until Publish or the Park deadline; leaves the serialized answer in
  // s->out. False when the client went away while waiting.
  awaitable<bool> ParkUntil(std::shared_ptr<Session> s, Park park) {
    s->out_sent = false;
    if (auto it = latest_.find(park.key);
        it != latest_.end() && it->second.first > park.min_version) {
      s->out = Serialize(it->second.second, s->keep_alive);
      co_return true;
    }
    s->phase = Phase::kParked;
    s->park_key = std::move(park.key);
    s->park_min_version = park.min_version;
    s->answered = false;
    s->peer_gone = false;
    parked_[s->park_key].insert(s.get());
    ++parked_count_;
    s->wake.expires_at(park.deadline);
    // A client that closes while parked is let go at once (not at the deadline). Bytes it sends
    // meanwhile stay unread until the answer is written.
    s->socket.async_wait(tcp::socket::wait_read, [s](boost::system::error_code ec) {
      if (ec || s->phase != Phase::kParked) {
        return;
      }
      char c = 0;
      const ssize_t n = ::recv(s->socket.native_handle(), &c, 1, MSG_PEEK | MSG_DONTWAIT);
      if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) {
        s->peer_gone = true;
        s->wake.cancel();
      }
    });
    co_await s->wake.async_wait(kUseTuple);
    Unpark(*s);
    boost::system::error_code ignored;
    s->socket.cancel(ignored);  // the close watch above
    if (s->peer_gone) {
      co_return false;
    }
    if (!s->answered) {
      s->out = Serialize(park.on_timeout, s->keep_alive);
    }
    co_return true;
  }

  void Unpark(Session& s) {
    if (s.phase != Phase::kParked) {
      return;
    }
    if (auto it = parked_.find(s.park_key); it != parked_.end()) {
      it->second.erase(&s);
      if (it->second.empty()) {
        parked_.erase(it);
      }
    }
    --parked_count_;
    s.phase = Phase::kProcessing;
  }

  void OnPublish(const std::string& key, std::uint64_t version, HttpResponse response) {
    auto& latest = latest_[key];
    if (latest.first >= version && latest.first != 0) {
      return;
    }
    latest = {version, std::move(response)};
    auto it = parked_.find(key);
    if (it == parked_.end()) {
      return;
    }
    // Every waiting poll is written here, in one pass (as fast as the loop can go); each
    // coroutine then only finishes a write the socket could not take at once.
    for (Session* s : it->second) {
      if (s->park_min_version >= version || s->answered) {
        continue;
      }
      s->answered = true;
      s->out = Serialize(latest.second, s->keep_alive);
      const int n = SSL_write(s->ssl, s->out.data(), static_cast<int>(s->out.size()));
      if (n > 0) {
        s->out_sent = true;
      } else {
        const int err = SSL_get_error(s->ssl, n);
        if (err != SSL_ERROR_WANT_WRITE && err != SSL_ERROR_WANT_READ) {
          ERR_clear_error();
          s->peer_gone = true;
        }
      }
      s->wake.cancel();
    }
  }

  const HttpServerOptions options_;
  SSL_CTX* const tls_;
  const Handler handler_;
  std::uint16_t port_ = 0;
  std::uint64_t max_connections_ = 0;
  std::uint64_t per_address_cap_ = 0;
  std::atomic<bool> stopping_{false};

  // Loop-thread state (declared before the io_context: coroutines destroyed with it still
  // unregister here).
  std::unordered_map<std::uint64_t, Session*> sessions_;
  std::unordered_map<std::uint32_t, Address> per_address_;
  std::size_t closing_ = 0;
  std::unordered_map<std::string, std::unordered_set<Session*>> parked_;
  std::unordered_map<std::string, std::pair<std::uint64_t, HttpResponse>> latest_;
  std::size_t buffered_body_ = 0;
  std::uint64_t next_id_ = 1;
  int reserve_fd_ = -1;
  std::uint64_t fd_warnings_suppressed_ = 0;
  SteadyClock::time_point next_fd_warning_{};
  std::array<char, kReadChunk> scratch_{};

  std::atomic<std::uint64_t> open_{0};
  std::atomic<std::uint64_t> total_{0};
  std::atomic<std::uint64_t> parked_count_{0};
  std::atomic<std::uint64_t> handshake_failures_{0};
  std::atomic<std::uint64_t> refused_{0};
  std::atomic<std::uint64_t> expired_{0};
  std::atomic<std::uint64_t> evicted_{0};

  asio::io_context ioc_{1};
  tcp::acceptor acceptor_{ioc_};
  asio::thread_pool workers_{static_cast<std::size_t>(std::max(1, options_.worker_threads))};
  std::thread loop_;
};

Session::~Session() {
  if (ssl != nullptr) {
    SSL_free(ssl);
  }
  owner.Forget(*this);
}

Result<std::unique_ptr<HttpServer>> HttpServer::Start(const HttpServerOptions& options,
                                                      ssl_ctx_st* tls, Handler handler) {
  auto impl = std::make_unique<Impl>(options, tls, std::move(handler));
  WARD_RETURN_IF_ERROR(impl->Start());
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
HttpServer::~HttpServer() = default;
std::uint16_t HttpServer::port() const { return impl_->port(); }
void HttpServer::Publish(const std::string& key, std::uint64_t version, HttpResponse response) {
  impl_->Publish(key, version, std::move(response));
}
HttpServerStats HttpServer::Stats() const { return impl_->Stats(); }
void HttpServer::Stop() { impl_->Stop(); }

}  // namespace ward::collector::internal
