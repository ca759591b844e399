// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "ward/common/result.h"

struct ssl_ctx_st;
struct ssl_st;

namespace ward::testing {

// Files of a test site in a directory: ca.pem, and a server cert/key naming `names`.
struct TlsServerPki {
  std::filesystem::path ca_cert;
  std::filesystem::path server_cert;
  std::filesystem::path server_key;
};
// A new CA and a server certificate signed by it for `names` (IP addresses or DNS names).
Result<TlsServerPki> CreateTlsServerPki(const std::filesystem::path& dir,
                                        std::span<const std::string> names);

// One request as the server read it. Value type.
struct SeenRequest {
  std::string method;
  std::string target;
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;
};

// One accepted connection, handed to the handler on its own thread. Confined to that thread.
class TlsServerConnection {
 public:
  // One request (head and Content-Length body); nullopt when the client closed, TLS failed or
  // the server is stopping.
  std::optional<SeenRequest> ReadRequest();
  // Writes raw bytes; false when the connection broke.
  bool Write(std::string_view bytes);
  // Blocks until the client closes the connection or the server stops (a stalled server).
  void WaitForClose();

 private:
  friend class TestTlsServer;
  TlsServerConnection(ssl_st* ssl, std::atomic<int>& requests) : ssl_(ssl), requests_(requests) {}
  bool ReadMore();

  ssl_st* ssl_;
  std::atomic<int>& requests_;
  std::string in_;
};

// A TLS server on a loopback address and port 0 that runs `handler` for every connection, each on
// its own thread; the handler scripts the answers (or the lack of them). The destructor shuts
// every connection down (waking blocked handlers) and joins. Thread-safe counters.
class TestTlsServer {
 public:
  using Handler = std::function<void(TlsServerConnection&)>;
  static Result<std::unique_ptr<TestTlsServer>> Start(const TlsServerPki& pki, Handler handler,
                                                      const std::string& address = "127.0.0.1");
  ~TestTlsServer();
  TestTlsServer(const TestTlsServer&) = delete;
  TestTlsServer& operator=(const TestTlsServer&) = delete;

  std::uint16_t port() const { return port_; }
  int connections() const { return connections_.load(); }  // TCP connections accepted
  int handshakes() const { return handshakes_.load(); }    // TLS handshakes completed
  int requests() const { return requests_.load(); }        // requests read in full

 private:
  TestTlsServer() = default;
  void AcceptLoop();
  void Serve(int fd);

  ssl_ctx_st* ctx_ = nullptr;
  Handler handler_;
  int listen_fd_ = -1;
  int wake_fd_ = -1;  // eventfd: stop accepting
  std::uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<int> connections_{0};
  std::atomic<int> handshakes_{0};
  std::atomic<int> requests_{0};
  std::thread acceptor_;
  std::mutex mu_;
  std::vector<int> open_fds_;         // guarded by mu_
  std::vector<std::thread> servers_;  // guarded by mu_
};

}  // namespace ward::testing
