// SPDX-License-Identifier: Apache-2.0
// The device-facing HTTP/1.1-over-TLS server: one epoll loop thread owns every connection;
// handlers run on a worker pool and hand their result back through a queue and an eventfd.
#include "internal/http_server.h"

#include "ward/collector/server/http_parse.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <set>
#include <thread>
#include <unordered_map>

#include "ward/common/log.h"

namespace ward::collector::internal {

namespace {

using SteadyClock = std::chrono::steady_clock;

constexpr std::uint64_t kListenTag = 0;
constexpr std::uint64_t kWakeTag = 1;
constexpr std::uint64_t kFirstConnId = 2;

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

enum class ConnState : std::uint8_t { kHandshake, kReading, kProcessing, kParked, kWriting };

struct Conn {
  std::uint64_t id = 0;
  int fd = -1;
  SSL* ssl = nullptr;
  ConnState state = ConnState::kHandshake;
  std::string peer;
  std::string in;
  std::string out;
  std::size_t out_offset = 0;
  bool keep_alive = true;
  bool close_after_write = false;
  bool want_write = false;  // EPOLLOUT registered
  SteadyClock::time_point last_activity;
  // While parked:
  std::string park_key;
  std::uint64_t park_min_version = 0;
  SteadyClock::time_point park_deadline;
  HttpResponse park_timeout;
};

struct Completion {
  std::uint64_t conn_id;
  HandlerResult result;
  bool keep_alive;
};

struct Published {
  std::string key;
  std::uint64_t version;
  HttpResponse response;
};

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
    for (int fd : {listen_fd_, epoll_fd_, wake_fd_}) {
      if (fd >= 0) {
        ::close(fd);
      }
    }
    SSL_CTX_free(tls_);
  }

  Status Start() {
    // OpenSSL writes with write(2): a peer that vanished mid-response must cost an EPIPE, not
    // the process. (Process-wide, and what every server embedding this wants.)
    ::signal(SIGPIPE, SIG_IGN);
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (listen_fd_ < 0) {
      return std::unexpected(ErrnoError("socket", errno));
    }
    // SO_REUSEADDR only: SO_REUSEPORT would let a second collector silently share the port.
    int one = 1;
    ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(options_.port);
    if (::inet_pton(AF_INET, options_.address.c_str(), &addr.sin_addr) != 1) {
      return InvalidArgumentError("listen address '" + options_.address +
                                  "' is not an IPv4 address");
    }
    if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
      return std::unexpected(
          ErrnoError("bind " + options_.address + ":" + std::to_string(options_.port), errno));
    }
    if (::listen(listen_fd_, 4096) != 0) {
      return std::unexpected(ErrnoError("listen", errno));
    }
    socklen_t len = sizeof(addr);
    ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
    wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (epoll_fd_ < 0 || wake_fd_ < 0) {
      return std::unexpected(ErrnoError("epoll/eventfd", errno));
    }
    AddFd(listen_fd_, EPOLLIN, kListenTag);
    AddFd(wake_fd_, EPOLLIN, kWakeTag);
    loop_ = std::thread([this] { Loop(); });
    for (int i = 0; i < std::max(1, options_.worker_threads); ++i) {
      workers_.emplace_back([this] { Work(); });
    }
    return OkStatus();
  }

  void Stop() {
    if (stopping_.exchange(true)) {
      return;
    }
    {
      std::scoped_lock lock(jobs_mu_);
      jobs_cv_.notify_all();
    }
    Wake();
    if (loop_.joinable()) {
      loop_.join();
    }
    for (auto& w : workers_) {
      w.join();
    }
    workers_.clear();
    for (auto& [id, conn] : conns_) {
      CloseNow(*conn);
    }
    conns_.clear();
  }

  std::uint16_t port() const { return port_; }

  void Publish(const std::string& key, std::uint64_t version, HttpResponse response) {
    {
      std::scoped_lock lock(queue_mu_);
      published_.push_back(Published{key, version, std::move(response)});
    }
    Wake();
  }

  HttpServerStats Stats() const {
    HttpServerStats s;
    s.connections_open = open_.load();
    s.connections_total = total_.load();
    s.parked = parked_count_.load();
    s.handshake_failures = handshake_failures_.load();
    return s;
  }

 private:
  void AddFd(int fd, std::uint32_t events, std::uint64_t tag) {
    epoll_event ev{};
    ev.events = events;
    ev.data.u64 = tag;
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev);
  }

  void SetWantWrite(Conn& c, bool want) {
    if (c.want_write == want) {
      return;
    }
    c.want_write = want;
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLRDHUP | (want ? EPOLLOUT : 0u);
    ev.data.u64 = c.id;
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, c.fd, &ev);
  }

  void Wake() {
    const std::uint64_t one = 1;
    [[maybe_unused]] ssize_t n = ::write(wake_fd_, &one, sizeof(one));
  }

  void Loop() {
    std::vector<epoll_event> events(1024);
    auto next_sweep = SteadyClock::now();
    while (!stopping_.load()) {
      const int n = ::epoll_wait(epoll_fd_, events.data(), static_cast<int>(events.size()), 100);
      if (n < 0 && errno != EINTR) {
        log::Error("epoll_wait failed", {{"errno", errno}});
        break;
      }
      for (int i = 0; i < n; ++i) {
        const std::uint64_t tag = events[static_cast<std::size_t>(i)].data.u64;
        const std::uint32_t what = events[static_cast<std::size_t>(i)].events;
        if (tag == kListenTag) {
          AcceptAll();
        } else if (tag == kWakeTag) {
          std::uint64_t count = 0;
          [[maybe_unused]] ssize_t r = ::read(wake_fd_, &count, sizeof(count));
        } else {
          OnConnEvent(tag, what);
        }
      }
      DrainQueues();
      const auto now = SteadyClock::now();
      if (now >= next_sweep) {
        Sweep(now);
        next_sweep = now + std::chrono::milliseconds(200);
      }
    }
  }

  void AcceptAll() {
    while (true) {
      sockaddr_in addr{};
      socklen_t len = sizeof(addr);
      const int fd = ::accept4(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len,
                               SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) {
        if (errno == EINTR) {
          continue;
        }
        if (errno == EMFILE || errno == ENFILE) {
          log::Warning("out of file descriptors; refusing connections for now");
        }
        return;
      }
      if (conns_.size() >= options_.max_connections) {
        ::close(fd);
        continue;
      }
      int one = 1;
      ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
      auto conn = std::make_unique<Conn>();
      conn->id = next_id_++;
      conn->fd = fd;
      conn->ssl = SSL_new(tls_);
      SSL_set_fd(conn->ssl, fd);
      SSL_set_accept_state(conn->ssl);
      char ip[INET_ADDRSTRLEN] = {};
      ::inet_ntop(AF_INET, &addr.sin_addr, ip, sizeof(ip));
      conn->peer = std::string(ip) + ":" + std::to_string(ntohs(addr.sin_port));
      conn->last_activity = SteadyClock::now();
      AddFd(fd, EPOLLIN | EPOLLRDHUP, conn->id);
      ++open_;
      ++total_;
      conns_.emplace(conn->id, std::move(conn));
    }
  }

  void OnConnEvent(std::uint64_t id, std::uint32_t what) {
    auto it = conns_.find(id);
    if (it == conns_.end()) {
      return;
    }
    Conn& c = *it->second;
    c.last_activity = SteadyClock::now();
    if (c.state == ConnState::kHandshake) {
      Handshake(c);
      return;
    }
    if (c.state == ConnState::kWriting && (what & EPOLLOUT) != 0) {
      Flush(c);
      return;
    }
    if ((what & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0) {
      ReadAvailable(c);
    }
  }

  void Handshake(Conn& c) {
    const int rc = SSL_do_handshake(c.ssl);
    if (rc == 1) {
      c.state = ConnState::kReading;
      ReadAvailable(c);
      return;
    }
    const int err = SSL_get_error(c.ssl, rc);
    if (err == SSL_ERROR_WANT_READ) {
      SetWantWrite(c, false);
    } else if (err == SSL_ERROR_WANT_WRITE) {
      SetWantWrite(c, true);
    } else {
      ++handshake_failures_;
      ERR_clear_error();
      Close(c);
    }
  }

  // Reads what TLS has; returns false when the connection was closed.
  bool ReadAvailable(Conn& c) {
    char buf[16384];
    while (true) {
      const int n = SSL_read(c.ssl, buf, sizeof(buf));
      if (n > 0) {
        c.in.append(buf, static_cast<std::size_t>(n));
        if (c.in.size() > options_.max_header_bytes + options_.max_body_bytes + 4096) {
          Close(c);  // a client that ignores our answers and keeps sending
          return false;
        }
        continue;
      }
      const int err = SSL_get_error(c.ssl, n);
      if (err == SSL_ERROR_WANT_READ) {
        break;
      }
      if (err == SSL_ERROR_WANT_WRITE) {
        SetWantWrite(c, true);
        break;
      }
      ERR_clear_error();
      Close(c);  // peer closed or TLS error
      return false;
    }
    if (c.state == ConnState::kReading) {
      TryParse(c);
    }
    return true;
  }

  void TryParse(Conn& c) {
    HttpParse p = ParseHttpRequest(c.in, options_.max_header_bytes, options_.max_body_bytes);
    if (p.outcome == HttpParse::Outcome::kIncomplete) {
      return;
    }
    if (p.outcome == HttpParse::Outcome::kError) {
      // 413 is answered before the body arrives; nothing more from this client is read.
      Respond(c, PlainError(p.error_status, p.error_message), false);
      return;
    }
    c.in.erase(0, p.consumed);
    p.request.peer = c.peer;
    c.state = ConnState::kProcessing;
    c.keep_alive = p.keep_alive;
    {
      std::scoped_lock lock(jobs_mu_);
      jobs_.push_back(Job{c.id, std::move(p.request), p.keep_alive});
    }
    jobs_cv_.notify_one();
  }

  void Respond(Conn& c, const HttpResponse& r, bool keep_alive) {
    c.out = Serialize(r, keep_alive);
    c.out_offset = 0;
    c.close_after_write = !keep_alive;
    c.state = ConnState::kWriting;
    Flush(c);
  }

  void Flush(Conn& c) {
    while (c.out_offset < c.out.size()) {
      const int n = SSL_write(c.ssl, c.out.data() + c.out_offset,
                              static_cast<int>(c.out.size() - c.out_offset));
      if (n > 0) {
        c.out_offset += static_cast<std::size_t>(n);
        continue;
      }
      const int err = SSL_get_error(c.ssl, n);
      if (err == SSL_ERROR_WANT_WRITE || err == SSL_ERROR_WANT_READ) {
        SetWantWrite(c, true);
        return;
      }
      ERR_clear_error();
      Close(c);
      return;
    }
    SetWantWrite(c, false);
    c.out.clear();
    c.out_offset = 0;
    if (c.close_after_write) {
      SSL_shutdown(c.ssl);
      Close(c);
      return;
    }
    c.state = ConnState::kReading;
    // The next request may already be buffered, in our string or inside OpenSSL.
    ReadAvailable(c);
  }

  void DrainQueues() {
    std::deque<Completion> done;
    std::deque<Published> published;
    {
      std::scoped_lock lock(queue_mu_);
      done.swap(done_);
      published.swap(published_);
    }
    // Publications first: a Park completed in the same batch must see the new version.
    for (Published& p : published) {
      OnPublish(std::move(p));
    }
    for (Completion& d : done) {
      auto it = conns_.find(d.conn_id);
      if (it == conns_.end()) {
        continue;  // the client went away meanwhile
      }
      Conn& c = *it->second;
      if (auto* response = std::get_if<HttpResponse>(&d.result)) {
        Respond(c, *response, d.keep_alive);
      } else {
        ParkConn(c, std::move(std::get<Park>(d.result)));
      }
    }
  }

  void OnPublish(Published p) {
    auto& latest = latest_[p.key];
    if (latest.first >= p.version && latest.first != 0) {
      return;
    }
    latest = {p.version, std::move(p.response)};
    auto it = parked_.find(p.key);
    if (it == parked_.end()) {
      return;
    }
    std::vector<std::uint64_t> ids(it->second.begin(), it->second.end());
    for (std::uint64_t id : ids) {
      auto cit = conns_.find(id);
      if (cit != conns_.end() && cit->second->park_min_version < p.version) {
        Unpark(*cit->second);
        Respond(*cit->second, latest.second, cit->second->keep_alive);
      }
    }
  }

  void ParkConn(Conn& c, Park park) {
    auto lit = latest_.find(park.key);
    if (lit != latest_.end() && lit->second.first > park.min_version) {
      Respond(c, lit->second.second, c.keep_alive);
      return;
    }
    c.state = ConnState::kParked;
    c.park_key = std::move(park.key);
    c.park_min_version = park.min_version;
    c.park_deadline = park.deadline;
    c.park_timeout = std::move(park.on_timeout);
    parked_[c.park_key].insert(c.id);
    ++parked_count_;
  }

  void Unpark(Conn& c) {
    if (c.state != ConnState::kParked) {
      return;
    }
    auto it = parked_.find(c.park_key);
    if (it != parked_.end()) {
      it->second.erase(c.id);
      if (it->second.empty()) {
        parked_.erase(it);
      }
    }
    --parked_count_;
    c.state = ConnState::kProcessing;
  }

  void Sweep(SteadyClock::time_point now) {
    std::vector<std::uint64_t> expired;
    for (auto& [id, conn] : conns_) {
      Conn& c = *conn;
      if (c.state == ConnState::kParked && now >= c.park_deadline) {
        expired.push_back(id);
      } else if ((c.state == ConnState::kHandshake &&
                  now - c.last_activity > options_.handshake_timeout) ||
                 (c.state == ConnState::kReading &&
                  now - c.last_activity > options_.idle_timeout)) {
        expired.push_back(id);
      }
    }
    for (std::uint64_t id : expired) {
      auto it = conns_.find(id);
      if (it == conns_.end()) {
        continue;
      }
      Conn& c = *it->second;
      if (c.state == ConnState::kParked) {
        Unpark(c);
        HttpResponse timeout = std::move(c.park_timeout);
        Respond(c, timeout, c.keep_alive);
      } else {
        Close(c);
      }
    }
  }

  void Close(Conn& c) {
    Unpark(c);
    const std::uint64_t id = c.id;
    CloseNow(c);
    conns_.erase(id);  // destroys c
  }

  void CloseNow(Conn& c) {
    if (c.ssl != nullptr) {
      SSL_free(c.ssl);
      c.ssl = nullptr;
    }
    if (c.fd >= 0) {
      ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, c.fd, nullptr);
      ::close(c.fd);
      c.fd = -1;
      --open_;
    }
  }

  struct Job {
    std::uint64_t conn_id;
    HttpRequest request;
    bool keep_alive;
  };

  void Work() {
    while (true) {
      Job job;
      {
        std::unique_lock lock(jobs_mu_);
        jobs_cv_.wait(lock, [&] { return stopping_.load() || !jobs_.empty(); });
        if (stopping_.load()) {
          return;
        }
        job = std::move(jobs_.front());
        jobs_.pop_front();
      }
      HandlerResult result = handler_(job.request);
      {
        std::scoped_lock lock(queue_mu_);
        done_.push_back(Completion{job.conn_id, std::move(result), job.keep_alive});
      }
      Wake();
    }
  }

  const HttpServerOptions options_;
  SSL_CTX* const tls_;
  const Handler handler_;
  int listen_fd_ = -1;
  int epoll_fd_ = -1;
  int wake_fd_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  std::thread loop_;
  std::vector<std::thread> workers_;

  // Loop-thread state.
  std::uint64_t next_id_ = kFirstConnId;
  std::unordered_map<std::uint64_t, std::unique_ptr<Conn>> conns_;
  std::unordered_map<std::string, std::set<std::uint64_t>> parked_;
  std::unordered_map<std::string, std::pair<std::uint64_t, HttpResponse>> latest_;

  std::mutex jobs_mu_;
  std::condition_variable jobs_cv_;
  std::deque<Job> jobs_;  // guarded by jobs_mu_

  std::mutex queue_mu_;
  std::deque<Completion> done_;      // guarded by queue_mu_
  std::deque<Published> published_;  // guarded by queue_mu_

  std::atomic<std::uint64_t> open_{0};
  std::atomic<std::uint64_t> total_{0};
  std::atomic<std::uint64_t> parked_count_{0};
  std::atomic<std::uint64_t> handshake_failures_{0};
};

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
