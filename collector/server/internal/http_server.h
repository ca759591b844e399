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
  std::size_t max_connections = 20000;
  int worker_threads = 4;
  std::chrono::seconds idle_timeout{75};
  std::chrono::seconds handshake_timeout{10};
};

struct HttpServerStats {
  std::uint64_t connections_open = 0;
  std::uint64_t connections_total = 0;
  std::uint64_t parked = 0;
  std::uint64_t handshake_failures = 0;
};

// HTTP/1.1 over TLS on one epoll event loop: accepting, TLS, parsing and writing happen on the
// loop thread; handlers run on a small worker pool; parked long-polls cost a connection record,
// not a thread (see docs/adr/0002-collector-long-poll-event-loop.md). Keep-alive, Content-Length
// bodies only. Public methods are thread-safe.
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
