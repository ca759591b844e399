// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "ward/collector/server/http_parse.h"
#include "ward/common/result.h"

struct ssl_ctx_st;

namespace ward::collector::internal {

using collector::HttpRequest;

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/x-protobuf";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

// Asks the server to hold the connection without a thread until `Publish(key, v, ...)` with
// v > min_version, or until `deadline`, when it answers `on_timeout`.
struct Park {
  std::string key;
  std::uint64_t min_version = 0;
  std::chrono::steady_clock::time_point deadline;
  HttpResponse on_timeout;
};

using HandlerResult = std::variant<HttpResponse, Park>;
// Runs on a worker thread; must not throw.
using Handler = std::function<HandlerResult(const HttpRequest&)>;

struct HttpServerOptions {
  std::string address = "127.0.0.1";
  std::uint16_t port = 0;  // 0: any free port
  std::size_t max_body_bytes = 8 * 1024 * 1024;
  std::size_t max_header_bytes = 16 * 1024;
  // Lowered at start to stay below the process's file descriptor limit (logged).
  std::size_t max_connections = 20000;
  // Connections from one IPv4 address at most (at most half of max_connections). A site whose
  // laptops reach the collector through one NAT address must raise it.
  std::size_t max_connections_per_address = 256;
  // Request bodies being received or handled, all connections together: past it, 503.
  std::size_t max_buffered_body_bytes = 32 * 1024 * 1024;
  int worker_threads = 4;
  // Overall deadlines; none is restarted by a byte arriving.
  std::chrono::seconds handshake_timeout{10};  // TLS handshake, from accept
  std::chrono::seconds idle_timeout{75};       // keep-alive: until a request's first byte
  // The request head, from its first byte; the body gets this plus its length at
  // min_bytes_per_second from the end of the head.
  std::chrono::seconds request_timeout{10};
  // A response: this plus its size at min_bytes_per_second.
  std::chrono::seconds write_timeout{10};
  std::size_t min_bytes_per_second = 32 * 1024;
};

struct HttpServerStats {
  std::uint64_t connections_open = 0;
  std::uint64_t connections_total = 0;
  std::uint64_t parked = 0;
  std::uint64_t handshake_failures = 0;
  std::uint64_t connections_refused = 0;  // over a cap, or no descriptor left
  std::uint64_t deadlines_expired = 0;    // connections closed at a deadline
  std::uint64_t connections_evicted = 0;  // slow connections displaced by newcomers when full
  std::uint64_t max_connections = 0;      // in force (after clamping to the descriptor limit)
};

// HTTP/1.1 over TLS on one Boost.Asio loop thread: accepting, TLS, parsing and writing happen
// there, each connection a coroutine; handlers run on a small worker pool; parked long-polls cost
// a connection record, not a thread (docs/adr/0002-collector-long-poll-event-loop.md,
// docs/adr/0006-collector-http-on-beast-asio.md). Keep-alive, Content-Length bodies only. Every
// state a client controls has an overall deadline (docs/security.md). Public methods are
// thread-safe.
class HttpServer {
 public:
  // `tls` must outlive the server (the server takes a reference on it).
  static Result<std::unique_ptr<HttpServer>> Start(const HttpServerOptions& options,
                                                   ssl_ctx_st* tls, Handler handler);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  std::uint16_t port() const;
  // Records `response` as the newest for `key` and answers every parked request whose
  // min_version < version, all at once. Later Parks with min_version < version get it at once.
  void Publish(const std::string& key, std::uint64_t version, HttpResponse response);
  HttpServerStats Stats() const;
  // Stops accepting, closes every connection and joins the threads. Idempotent.
  void Stop();

  class Impl;

 private:
  explicit HttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

std::string_view HttpReason(int status);

}  // namespace ward::collector::internal
