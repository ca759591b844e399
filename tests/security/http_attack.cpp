// SPDX-License-Identifier: Apache-2.0
// ward_http_attack: bounded attacks on a real ward-collector process on loopback, each with a
// pass/fail verdict (docs/security.md). The collector is started by this program in a fresh
// data directory and stopped by its PID; attackers connect from 127.0.0.2 and up, the health
// probe from 127.0.0.1, so per-address limits see them as different hosts. Every attack has a
// fixed window; nothing runs past it.
//
//   ward_http_attack --collector PATH --attack NAME
//
// Attacks (findings of the security review, issue 14):
//   pipeline-noread  10 clients pipeline 3,000 GET /metrics (with a metrics token) with a tiny
//                    receive window, never read
//   slow-head        500 clients send a request head one byte every 2 s
//   trickle-hello    100 clients send a TLS ClientHello one byte a second
//   short-body       20 clients announce an 8 MiB body and send all but one byte
//   capacity         --max-connections 300, 2,000 clients trickling ClientHellos
//   flood20k         20,000 connections trickling ClientHellos
//   fd-exhaust       collector limited to 200 descriptors, 250 slow clients
//   tls-versions     TLS 1.0/1.1, CBC suites and renegotiation are refused; 1.2 GCM and 1.3 work
//   handshakes       500 concurrent TLS handshakes
//   bad-tokens       10,000 requests with bad bearer tokens
//   concern-listing  40 concerns with 4 MiB screenshots, then the DSL and IT list events and
//                    concerns (every page): the collector's peak RSS while they do
// Each prints its figures and "PASS" or "FAIL: why"; the exit status is 0 only on PASS.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

#include "ward/common/clock.h"
#include "ward/common/random.h"
#include "ward/common/uuid.h"
#include "ward/testing/collector_support.h"
#include "ward/testing/https_client.h"
#include "ward/v1/sync.pb.h"

namespace ward::security {
namespace {

using Steady = std::chrono::steady_clock;
using namespace std::chrono_literals;

[[noreturn]] void Die(const std::string& what) {
  std::cerr << "ward_http_attack: " << what << "\n";
  std::exit(2);
}

double Seconds(Steady::duration d) { return std::chrono::duration<double>(d).count(); }

// 127.0.0.2 and up: attacker k of `per_address` per address.
std::uint32_t AttackerAddress(std::size_t k, std::size_t per_address) {
  return (127u << 24) + 2u + static_cast<std::uint32_t>(k / std::max<std::size_t>(per_address, 1));
}

// A TCP connection from `source` (host order) to 127.0.0.1:port; -1 on failure. Non-blocking
// connects return at once (the kernel completes them in the listen backlog).
int TcpConnect(std::uint32_t source, std::uint16_t port, bool non_blocking, int rcvbuf = 0) {
  const int fd =
      ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | (non_blocking ? SOCK_NONBLOCK : 0), 0);
  if (fd < 0) {
    return -1;
  }
  if (rcvbuf > 0) {
    ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
  }
  timeval tv{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  sockaddr_in src{};
  src.sin_family = AF_INET;
  src.sin_addr.s_addr = htonl(source);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&src), sizeof(src)) != 0) {
    ::close(fd);
    return -1;
  }
  sockaddr_in dst{};
  dst.sin_family = AF_INET;
  dst.sin_port = htons(port);
  dst.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&dst), sizeof(dst)) != 0 &&
      !(non_blocking && errno == EINPROGRESS)) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// Whether the server still holds the connection: our side is ESTABLISHED until its FIN or RST.
bool Held(int fd) {
  tcp_info info{};
  socklen_t len = sizeof(info);
  if (::getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &len) != 0) {
    return false;
  }
  return info.tcpi_state == 1 /* TCP_ESTABLISHED */ || info.tcpi_state == 2 /* SYN_SENT */;
}

using CtxPtr = std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)>;

// Client TLS without verification (an attacker does not care), optionally pinned to versions.
CtxPtr AttackerTls(int min_version = TLS1_2_VERSION, int max_version = 0,
                   const char* ciphers = nullptr) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
  if (min_version < TLS1_2_VERSION || ciphers != nullptr) {
    SSL_CTX_set_security_level(ctx, 0);
  }
  SSL_CTX_set_min_proto_version(ctx, min_version);
  if (max_version != 0) {
    SSL_CTX_set_max_proto_version(ctx, max_version);
  }
  if (ciphers != nullptr) {
    SSL_CTX_set_cipher_list(ctx, ciphers);
  }
  return CtxPtr(ctx, &SSL_CTX_free);
}

// Closed on destruction. Move-only.
struct TlsConn {
  TlsConn() = default;
  TlsConn(TlsConn&& o) noexcept : fd(std::exchange(o.fd, -1)), ssl(std::exchange(o.ssl, nullptr)) {}
  TlsConn& operator=(TlsConn&& o) noexcept {
    Close();
    fd = std::exchange(o.fd, -1);
    ssl = std::exchange(o.ssl, nullptr);
    return *this;
  }
  ~TlsConn() { Close(); }
  int fd = -1;
  SSL* ssl = nullptr;
  void Close() {
    if (ssl != nullptr) {
      SSL_free(ssl);
      ssl = nullptr;
    }
    if (fd >= 0) {
      ::close(fd);
      fd = -1;
    }
  }
};

TlsConn TlsConnect(SSL_CTX* ctx, std::uint32_t source, std::uint16_t port, int rcvbuf = 0) {
  TlsConn c;
  c.fd = TcpConnect(source, port, false, rcvbuf);
  if (c.fd < 0) {
    return c;
  }
  c.ssl = SSL_new(ctx);
  SSL_set_fd(c.ssl, c.fd);
  if (SSL_connect(c.ssl) != 1) {
    ERR_clear_error();
    c.Close();
  }
  return c;
}

std::size_t CountHeld(const std::vector<TlsConn>& conns) {
  return static_cast<std::size_t>(std::count_if(
      conns.begin(), conns.end(), [](const TlsConn& c) { return c.fd >= 0 && Held(c.fd); }));
}

// The first flight of a TLS 1.3 client, to be dribbled byte by byte.
std::string ClientHello() {
  CtxPtr ctx = AttackerTls();
  SSL* ssl = SSL_new(ctx.get());
  BIO* rbio = BIO_new(BIO_s_mem());
  BIO* wbio = BIO_new(BIO_s_mem());
  SSL_set_bio(ssl, rbio, wbio);
  SSL_set_connect_state(ssl);
  SSL_do_handshake(ssl);
  char* data = nullptr;
  const long n = BIO_get_mem_data(wbio, &data);
  std::string hello(data, static_cast<std::size_t>(n));
  SSL_free(ssl);
  ERR_clear_error();
  return hello;
}

class Collector {
 public:
  struct Settings {
    std::vector<std::string> extra_args;
    rlim_t nofile = 0;  // 0: inherit
    // Runs after `init` and before `serve`, with the data directory (bootstrap commands).
    std::function<void(const std::string& data)> before_serve = {};
  };

  explicit Collector(const std::string& binary) : binary_(binary) {}
  ~Collector() { Stop(); }

  void Start(const Settings& settings) {
    port_ = testing::FreeLoopbackPort();
    const std::string data = (dir_.path() / "data").string();
    Run({binary_, "init", "--data-dir", data, "--host", "127.0.0.1", "--listen",
         "127.0.0.1:" + std::to_string(port_)});
    // /metrics needs a token (issue 14, finding 9): the least-privileged credential there is.
    const std::filesystem::path token_file = dir_.path() / "metrics.token";
    const pid_t token = Spawn(
        {binary_, "token", "create", "--data-dir", data, "--role", "metrics", "--name", "attack"},
        token_file, 0);
    int token_status = 0;
    ::waitpid(token, &token_status, 0);
    std::ifstream(token_file) >> metrics_token_;
    if (!WIFEXITED(token_status) || WEXITSTATUS(token_status) != 0 || metrics_token_.empty()) {
      Die("ward-collector token create failed");
    }
    if (settings.before_serve) {
      settings.before_serve(data);
    }
    std::vector<std::string> args = {binary_, "serve",       "--data-dir",
                                     data,    "--log-level", "warning"};
    args.insert(args.end(), settings.extra_args.begin(), settings.extra_args.end());
    log_ = dir_.path() / "collector.log";
    pid_ = Spawn(args, log_, settings.nofile);
    auto tls = testing::TlsClientContext::Create(dir_.path() / "data" / "ca.pem");
    if (!tls) {
      Die(tls.error().ToString());
    }
    tls_ = *tls;
    const auto deadline = Steady::now() + 20s;
    while (Steady::now() < deadline) {
      if (Healthz(2s) >= 0) {
        std::this_thread::sleep_for(300ms);  // let start-up allocations settle
        rss_start_kb_ = RssKb();
        cpu_start_ = CpuSeconds();
        std::printf("collector pid %d on 127.0.0.1:%u\n", static_cast<int>(pid_), port_);
        std::fflush(stdout);
        return;
      }
      std::this_thread::sleep_for(50ms);
    }
    Die("the collector did not become healthy; its log:\n" + ReadLog());
  }

  void Stop() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      int status = 0;
      const auto deadline = Steady::now() + 10s;
      while (::waitpid(pid_, &status, WNOHANG) == 0) {
        if (Steady::now() > deadline) {
          ::kill(pid_, SIGKILL);
          ::waitpid(pid_, &status, 0);
          break;
        }
        std::this_thread::sleep_for(20ms);
      }
      pid_ = -1;
    }
  }

  // Milliseconds for a fresh connection's GET /healthz from 127.0.0.1, or -1 on failure (with
  // the reason in `why`).
  double Healthz(std::chrono::seconds timeout, std::string* why = nullptr) const {
    const auto start = Steady::now();
    auto conn = testing::HttpsConnection::Connect(tls_, port_, timeout, "127.0.0.1");
    if (!conn) {
      if (why != nullptr) {
        *why = conn.error().ToString() + " after " +
               std::to_string(static_cast<int>(Seconds(Steady::now() - start) * 1000)) + " ms";
      }
      return -1;
    }
    auto r = (*conn)->Request("GET", "/healthz");
    if (!r || r->status != 200) {
      if (why != nullptr) {
        *why = r ? "status " + std::to_string(r->status) : r.error().ToString();
      }
      return -1;
    }
    return Seconds(Steady::now() - start) * 1000;
  }

  // The last word `ward-collector <args...>` printed (a secret or token); dies on failure.
  std::string Output(const std::vector<std::string>& args) {
    std::vector<std::string> argv = {binary_};
    argv.insert(argv.end(), args.begin(), args.end());
    const std::filesystem::path out = dir_.path() / "output.txt";
    const pid_t pid = Spawn(argv, out, 0);
    int status = 0;
    ::waitpid(pid, &status, 0);
    std::ifstream in(out);
    std::string word;
    std::string last;
    while (in >> word) {
      last = word;
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      Die("ward-collector " + args.front() + " failed: " + last);
    }
    return last;
  }
  // Starts counting the peak RSS (VmHWM) afresh from now.
  void ResetPeakRss() const {
    std::ofstream("/proc/" + std::to_string(pid_) + "/clear_refs") << "5";
  }

  long RssKb() const { return Status("VmRSS"); }
  long PeakRssKb() const { return Status("VmHWM"); }
  long rss_start_kb() const { return rss_start_kb_; }
  double CpuSeconds() const {
    std::ifstream in("/proc/" + std::to_string(pid_) + "/stat");
    std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const auto close = stat.rfind(')');
    if (close == std::string::npos) {
      return 0;
    }
    std::istringstream fields(stat.substr(close + 2));
    std::string f;
    unsigned long long utime = 0;
    unsigned long long stime = 0;
    for (int i = 3; i <= 15 && fields >> f; ++i) {
      if (i == 14) {
        utime = std::stoull(f);
      } else if (i == 15) {
        stime = std::stoull(f);
      }
    }
    return static_cast<double>(utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
  }
  double cpu_start() const { return cpu_start_; }
  std::uintmax_t LogBytes() const {
    std::error_code ec;
    const auto n = std::filesystem::file_size(log_, ec);
    return ec ? 0 : n;
  }
  std::string ReadLog() const {
    std::ifstream in(log_);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  }
  std::uint16_t port() const { return port_; }
  // A `metrics` staff token for this collector (made at Start).
  const std::string& metrics_token() const { return metrics_token_; }
  const std::shared_ptr<testing::TlsClientContext>& tls() const { return tls_; }

 private:
  static pid_t Spawn(const std::vector<std::string>& args, const std::filesystem::path& log,
                     rlim_t nofile) {
    std::vector<char*> argv;
    for (const auto& a : args) {
      argv.push_back(const_cast<char*>(a.c_str()));
    }
    argv.push_back(nullptr);
    const pid_t pid = ::fork();
    if (pid == 0) {
      const int out = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0600);
      ::dup2(out, STDOUT_FILENO);
      ::dup2(out, STDERR_FILENO);
      if (nofile != 0) {
        const rlimit lim{nofile, nofile};
        ::setrlimit(RLIMIT_NOFILE, &lim);
      }
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
    return pid;
  }

  static void Run(const std::vector<std::string>& args) {
    const pid_t pid = Spawn(args, "/dev/null", 0);
    int status = 0;
    ::waitpid(pid, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      Die(args[0] + " " + args[1] + " failed");
    }
  }

  long Status(const std::string& field) const { return testing::ProcessStatusKb(pid_, field); }

  std::string binary_;
  std::string metrics_token_;
  testing::TempDir dir_;
  std::filesystem::path log_;
  pid_t pid_ = -1;
  std::uint16_t port_ = 0;
  std::shared_ptr<testing::TlsClientContext> tls_;
  long rss_start_kb_ = 0;
  double cpu_start_ = 0;
};

// Probes /healthz every 250 ms from 127.0.0.1 while an attack runs; a probe that takes more
// than 5 s (connect, handshake or answer) has failed.
class Prober {
 public:
  explicit Prober(const Collector& c) : collector_(c), thread_([this] { Run(); }) {}
  ~Prober() { Finish(); }
  void Finish() {
    stop_ = true;
    if (thread_.joinable()) {
      thread_.join();
    }
  }
  int probes() const { return probes_; }
  int failures() const { return failures_; }
  double max_ms() const { return max_ms_; }

 private:
  void Run() {
    while (!stop_) {
      std::string why;
      const double ms = collector_.Healthz(5s, &why);
      ++probes_;
      if (ms < 0) {
        if (failures_++ == 0) {
          std::printf("first /healthz failure: %s\n", why.c_str());
          std::fflush(stdout);
        }
      } else {
        max_ms_ = std::max(max_ms_.load(), ms);
      }
      std::this_thread::sleep_for(250ms);
    }
  }
  const Collector& collector_;
  std::atomic<bool> stop_{false};
  std::atomic<int> probes_{0};
  std::atomic<int> failures_{0};
  std::atomic<double> max_ms_{0};
  std::thread thread_;
};

struct Verdict {
  std::vector<std::string> failures;
  void Expect(bool ok, const std::string& what) {
    if (!ok) {
      failures.push_back(what);
    }
  }
};

void Report(const Collector& c, const Prober& p, Verdict& v, double healthz_budget_ms = 2500) {
  const long rss = c.RssKb();
  std::printf("healthz: %d probes, %d failed, slowest %.0f ms\n", p.probes(), p.failures(),
              p.max_ms());
  std::printf("collector RSS: %ld MB at start, %ld MB now, peak %ld MB (+%ld MB)\n",
              c.rss_start_kb() / 1024, rss / 1024, c.PeakRssKb() / 1024,
              (c.PeakRssKb() - c.rss_start_kb()) / 1024);
  v.Expect(p.failures() == 0, "/healthz failed during the attack");
  v.Expect(
      p.max_ms() < healthz_budget_ms,
      "/healthz was slower than " + std::to_string(static_cast<int>(healthz_budget_ms)) + " ms");
}

void SleepUntil(Steady::time_point t) { std::this_thread::sleep_until(t); }

// Runs fn(i) for i in [0, n) on `threads` threads.
void Parallel(std::size_t n, std::size_t threads, const std::function<void(std::size_t)>& fn) {
  std::atomic<std::size_t> next{0};
  std::vector<std::thread> pool;
  for (std::size_t t = 0; t < threads; ++t) {
    pool.emplace_back([&] {
      for (std::size_t i = next++; i < n; i = next++) {
        fn(i);
      }
    });
  }
  for (auto& t : pool) {
    t.join();
  }
}

// --- finding 1 ---------------------------------------------------------------------------

Verdict PipelineNoRead(Collector& c) {
  c.Start({});
  Prober prober(c);
  constexpr std::size_t kClients = 10;
  constexpr int kRequests = 3000;
  const auto start = Steady::now();
  const auto window = start + 25s;
  std::string pipeline;
  for (int i = 0; i < kRequests; ++i) {
    // Authenticated, so each answer is the whole metrics text (a few KiB), not a short 401.
    pipeline += "GET /metrics HTTP/1.1\r\nHost: collector\r\nAuthorization: Bearer " +
                c.metrics_token() + "\r\n\r\n";
  }
  const CtxPtr ctx = AttackerTls();
  std::vector<TlsConn> conns(kClients);
  std::atomic<std::size_t> written{0};
  Parallel(kClients, kClients, [&](std::size_t i) {
    conns[i] = TlsConnect(ctx.get(), AttackerAddress(i, kClients), c.port(), 1024);
    if (conns[i].ssl == nullptr) {
      return;
    }
    std::size_t done = 0;
    while (done < pipeline.size() && Steady::now() < start + 15s) {
      const int n =
          SSL_write(conns[i].ssl, pipeline.data() + done, static_cast<int>(pipeline.size() - done));
      if (n > 0) {
        done += static_cast<std::size_t>(n);
      } else if (SSL_get_error(conns[i].ssl, n) != SSL_ERROR_WANT_WRITE) {
        break;  // the server closed (or a send timeout broke TLS)
      }
    }
    written += done;
  });
  SleepUntil(window);
  const std::size_t held = CountHeld(conns);
  prober.Finish();
  std::printf(
      "pipeline-noread: %zu clients wrote %zu KB of requests (into socket buffers); %zu still "
      "held after %.0f s\n",
      kClients, written.load() / 1024, held, Seconds(Steady::now() - start));
  Verdict v;
  Report(c, prober, v);
  v.Expect(held == 0, "connections that never read were still held after 25 s");
  v.Expect(c.PeakRssKb() - c.rss_start_kb() < 32 * 1024, "memory grew by 32 MB or more");
  return v;
}

Verdict SlowHead(Collector& c) {
  c.Start({});
  Prober prober(c);
  constexpr std::size_t kClients = 500;
  const std::string head = "GET /healthz HTTP/1.1\r\nHost: collector\r\nX-Slow: ";
  const CtxPtr ctx = AttackerTls();
  std::vector<TlsConn> conns(kClients);
  Parallel(kClients, 16, [&](std::size_t i) {
    conns[i] = TlsConnect(ctx.get(), AttackerAddress(i, 50), c.port());
  });
  const auto start = Steady::now();
  std::size_t connected = 0;
  for (auto& conn : conns) {
    connected += conn.ssl != nullptr ? 1u : 0u;
  }
  std::size_t sent = 0;
  for (auto tick = start; tick < start + 20s; tick += 2s) {
    SleepUntil(tick);
    for (auto& conn : conns) {
      if (conn.ssl != nullptr && Held(conn.fd)) {
        const char byte = head[sent % head.size()];
        if (SSL_write(conn.ssl, &byte, 1) != 1) {
          ERR_clear_error();
        }
      }
    }
    ++sent;
  }
  const std::size_t held = CountHeld(conns);
  prober.Finish();
  std::printf(
      "slow-head: %zu of %zu clients connected, one byte every 2 s; %zu still held after "
      "%.0f s\n",
      connected, kClients, held, Seconds(Steady::now() - start));
  Verdict v;
  Report(c, prober, v);
  v.Expect(connected == kClients, "not every client could connect");
  v.Expect(held == 0, "slow request heads were still held after 20 s");
  return v;
}

// Attackers [begin, end) of TrickleHello; allocates nothing, so it may run in a child forked
// from this multi-threaded process. `fds` has room for end - begin descriptors.
void TrickleSlice(std::uint16_t port, const std::string& hello, std::size_t begin, std::size_t end,
                  std::size_t per_address, Steady::duration every, Steady::time_point start,
                  Steady::duration window, int* fds, std::size_t* connected, std::size_t* held) {
  const std::size_t n = end - begin;
  *connected = 0;
  for (std::size_t i = 0; i < n; ++i) {
    fds[i] = TcpConnect(AttackerAddress(begin + i, per_address), port, true);
    *connected += fds[i] >= 0 ? 1u : 0u;
  }
  std::size_t sent = 0;
  for (auto tick = start; tick < start + window; tick += every) {
    SleepUntil(tick);
    for (std::size_t i = 0; i < n; ++i) {
      if (fds[i] >= 0 && sent < hello.size()) {
        [[maybe_unused]] const ssize_t w = ::send(fds[i], &hello[sent], 1, MSG_NOSIGNAL);
      }
    }
    ++sent;
  }
  SleepUntil(start + window);
  *held = 0;
  for (std::size_t i = 0; i < n; ++i) {
    if (fds[i] >= 0) {
      *held += Held(fds[i]) ? 1u : 0u;
      ::close(fds[i]);
    }
  }
}

// Opens `n` raw connections from `per_address` clients per address and dribbles the
// ClientHello, one byte per `every`, until `window`; returns how many the server still holds.
// Past 8,000 connections the attackers are split over child processes, so that neither they
// nor the /healthz probe run out of descriptors (the hard limit may be 20,000 and not ours to
// raise).
std::size_t TrickleHello(const Collector& c, std::size_t n, std::size_t per_address,
                         Steady::duration every, Steady::duration window,
                         std::size_t* connected = nullptr) {
  constexpr std::size_t kPerProcess = 8000;
  const std::string hello = ClientHello();
  std::vector<int> fds(n, -1);
  const auto start = Steady::now() + 500ms;  // every slice starts dribbling at the same time
  std::size_t ok = 0;
  std::size_t held = 0;
  if (n <= kPerProcess) {
    TrickleSlice(c.port(), hello, 0, n, per_address, every, start, window, fds.data(), &ok, &held);
  } else {
    struct Child {
      pid_t pid;
      int read_end;
    };
    std::vector<Child> children;
    children.reserve(n / kPerProcess + 1);
    for (std::size_t begin = 0; begin < n; begin += kPerProcess) {
      const std::size_t end = std::min(n, begin + kPerProcess);
      int p[2];
      if (::pipe(p) != 0) {
        Die("pipe");
      }
      const pid_t pid = ::fork();
      if (pid == 0) {
        std::size_t result[2] = {0, 0};
        TrickleSlice(c.port(), hello, begin, end, per_address, every, start, window,
                     fds.data() + begin, &result[0], &result[1]);
        [[maybe_unused]] const ssize_t w = ::write(p[1], result, sizeof(result));
        ::_exit(0);
      }
      ::close(p[1]);
      children.push_back({pid, p[0]});
    }
    for (const Child& child : children) {
      std::size_t result[2] = {0, 0};
      if (::read(child.read_end, result, sizeof(result)) == static_cast<ssize_t>(sizeof(result))) {
        ok += result[0];
        held += result[1];
      }
      ::close(child.read_end);
      int status = 0;
      ::waitpid(child.pid, &status, 0);
    }
  }
  if (connected != nullptr) {
    *connected = ok;
  }
  return held;
}

Verdict TrickleHelloAttack(Collector& c) {
  c.Start({});
  Prober prober(c);
  std::size_t connected = 0;
  const std::size_t held = TrickleHello(c, 100, 50, 1s, 15s, &connected);
  prober.Finish();
  std::printf(
      "trickle-hello: %zu clients, one ClientHello byte a second; %zu still held after "
      "15 s\n",
      connected, held);
  Verdict v;
  Report(c, prober, v);
  v.Expect(held == 0, "trickled handshakes were still held after 15 s");
  return v;
}

Verdict ShortBody(Collector& c) {
  c.Start({});
  Prober prober(c);
  constexpr std::size_t kClients = 20;
  constexpr std::size_t kLength = 8 * 1024 * 1024;
  const std::string head =
      "POST /v1/events HTTP/1.1\r\nHost: collector\r\nContent-Type: application/x-protobuf\r\n"
      "Content-Length: " +
      std::to_string(kLength) + "\r\n\r\n";
  const std::string chunk(64 * 1024, 'x');
  const CtxPtr ctx = AttackerTls();
  std::vector<TlsConn> conns(kClients);
  std::atomic<std::size_t> bodies_sent{0};
  const auto start = Steady::now();
  Parallel(kClients, kClients, [&](std::size_t i) {
    conns[i] = TlsConnect(ctx.get(), AttackerAddress(i, kClients), c.port());
    if (conns[i].ssl == nullptr ||
        SSL_write(conns[i].ssl, head.data(), static_cast<int>(head.size())) <= 0) {
      return;
    }
    std::size_t left = kLength - 1;
    while (left > 0 && Steady::now() < start + 15s) {
      const std::size_t n = std::min(left, chunk.size());
      if (SSL_write(conns[i].ssl, chunk.data(), static_cast<int>(n)) <= 0) {
        ERR_clear_error();
        return;  // refused (503) and closed
      }
      left -= n;
    }
    if (left == 0) {
      ++bodies_sent;
    }
  });
  SleepUntil(start + 20s);
  prober.Finish();
  std::printf("short-body: %zu clients announced 8 MiB; %zu sent all but the last byte\n", kClients,
              bodies_sent.load());
  Verdict v;
  Report(c, prober, v);
  v.Expect(c.PeakRssKb() - c.rss_start_kb() < 64 * 1024,
           "memory grew by 64 MB or more for unfinished bodies");
  return v;
}

Verdict Capacity(Collector& c) {
  Collector::Settings settings;
  settings.extra_args = {"--max-connections", "300"};
  c.Start(settings);
  Prober prober(c);
  std::size_t connected = 0;
  const std::size_t held = TrickleHello(c, 2000, 50, 2s, 20s, &connected);
  prober.Finish();
  std::printf(
      "capacity: max_connections 300, %zu hostile connections from %zu addresses; %zu "
      "held at the end\n",
      connected, (connected + 49) / 50, held);
  Verdict v;
  Report(c, prober, v);
  return v;
}

Verdict Flood20k(Collector& c) {
  c.Start({});
  Prober prober(c);
  std::size_t connected = 0;
  const std::size_t held = TrickleHello(c, 20000, 500, 2s, 25s, &connected);
  prober.Finish();
  std::printf("flood20k: %zu hostile connections from %zu addresses; %zu held at the end\n",
              connected, (connected + 499) / 500, held);
  Verdict v;
  // While 20,000 connects arrive from this same 2-core machine, a probe can wait behind the
  // burst in the listen backlog: every probe must be answered, within the probe's 5 s.
  Report(c, prober, v, 5000);
  v.Expect(connected >= 19000, "could not open the 20,000 attacking connections");
  v.Expect(c.PeakRssKb() - c.rss_start_kb() < 300 * 1024, "memory grew by 300 MB or more");
  return v;
}

// --- finding 2 ---------------------------------------------------------------------------

Verdict FdExhaust(Collector& c) {
  Collector::Settings settings;
  settings.nofile = 200;
  c.Start(settings);
  Prober prober(c);
  const std::size_t held = TrickleHello(c, 250, 50, 2s, 20s);
  const double cpu = c.CpuSeconds() - c.cpu_start();
  prober.Finish();
  const auto log_bytes = c.LogBytes();
  std::printf(
      "fd-exhaust: descriptor limit 200, 250 slow clients; %zu held at the end; "
      "collector CPU %.1f s in 20 s (%.0f%%); log %ju bytes\n",
      held, cpu, cpu / 20 * 100, log_bytes);
  Verdict v;
  Report(c, prober, v);
  v.Expect(cpu < 4.0, "the collector used more than 20% of a core while out of descriptors");
  v.Expect(log_bytes < 64 * 1024, "the collector wrote 64 KB or more of log");
  return v;
}

// --- what held: TLS ----------------------------------------------------------------------

Verdict TlsVersions(Collector& c) {
  c.Start({});
  Verdict v;
  struct Case {
    const char* name;
    int min;
    int max;
    const char* ciphers;
    bool accepted;
  };
  const Case cases[] = {
      {"TLS 1.0", TLS1_VERSION, TLS1_VERSION, "ALL:@SECLEVEL=0", false},
      {"TLS 1.1", TLS1_1_VERSION, TLS1_1_VERSION, "ALL:@SECLEVEL=0", false},
      {"TLS 1.2 CBC suites only", TLS1_2_VERSION, TLS1_2_VERSION,
       "ECDHE-ECDSA-AES128-SHA:ECDHE-ECDSA-AES256-SHA:ECDHE-ECDSA-AES128-SHA256:"
       "ECDHE-ECDSA-AES256-SHA384:AES128-SHA:AES256-SHA",
       false},
      {"TLS 1.2 RSA key exchange", TLS1_2_VERSION, TLS1_2_VERSION, "AES128-GCM-SHA256", false},
      {"TLS 1.2 ECDHE AES-GCM", TLS1_2_VERSION, TLS1_2_VERSION, "ECDHE-ECDSA-AES128-GCM-SHA256",
       true},
      {"TLS 1.3", TLS1_3_VERSION, TLS1_3_VERSION, nullptr, true},
  };
  for (const Case& k : cases) {
    const CtxPtr ctx = AttackerTls(k.min, k.max, k.ciphers);
    TlsConn conn = TlsConnect(ctx.get(), AttackerAddress(0, 1), c.port());
    const bool accepted = conn.ssl != nullptr;
    std::printf("%-26s %s\n", k.name, accepted ? "accepted" : "refused");
    v.Expect(accepted == k.accepted,
             std::string(k.name) + (accepted ? " was accepted" : " was refused"));
    if (accepted && k.max == TLS1_2_VERSION) {
      // Renegotiation: the server must refuse it (SSL_OP_NO_RENEGOTIATION).
      SSL_renegotiate(conn.ssl);
      const int rc = SSL_do_handshake(conn.ssl);
      const std::string get = "GET /healthz HTTP/1.1\r\nHost: c\r\n\r\n";
      char buf[512];
      const bool wrote = SSL_write(conn.ssl, get.data(), static_cast<int>(get.size())) > 0;
      const int n = wrote ? SSL_read(conn.ssl, buf, sizeof(buf)) : -1;
      const bool renegotiated = rc == 1 && SSL_renegotiate_pending(conn.ssl) == 0 && n > 0;
      ERR_clear_error();
      std::printf("%-26s %s\n", "TLS 1.2 renegotiation", renegotiated ? "accepted" : "refused");
      v.Expect(!renegotiated, "renegotiation was accepted");
    }
  }
  return v;
}

Verdict Handshakes(Collector& c) {
  c.Start({});
  Prober prober(c);
  constexpr std::size_t kClients = 500;
  const CtxPtr ctx = AttackerTls();
  std::vector<TlsConn> conns(kClients);
  std::atomic<std::size_t> ok{0};
  const auto start = Steady::now();
  Parallel(kClients, kClients, [&](std::size_t i) {
    conns[i] = TlsConnect(ctx.get(), AttackerAddress(i, 125), c.port());
    ok += conns[i].ssl != nullptr ? 1u : 0u;
  });
  const double took = Seconds(Steady::now() - start);
  std::this_thread::sleep_for(1s);
  prober.Finish();
  std::printf("handshakes: %zu of %zu concurrent handshakes completed in %.2f s\n", ok.load(),
              kClients, took);
  Verdict v;
  // 500 ECDHE handshakes are CPU work for the one loop thread; a probe waits behind some
  // (2.2 s measured on a busy machine): answered within the probe's 5 s.
  Report(c, prober, v, 5000);
  v.Expect(ok == kClients, "not every handshake completed");
  v.Expect(took < 15, "500 handshakes took 15 s or more");
  return v;
}

Verdict BadTokens(Collector& c) {
  c.Start({});
  Prober prober(c);
  constexpr std::size_t kConnections = 4;
  constexpr int kEach = 2500;
  std::atomic<int> refused{0};
  std::atomic<int> other{0};
  const auto start = Steady::now();
  Parallel(kConnections, kConnections, [&](std::size_t i) {
    auto conn = testing::HttpsConnection::Connect(c.tls(), c.port(), 10s);
    for (int k = 0; k < kEach && conn; ++k) {
      auto r = (*conn)->Request(
          "POST", "/v1/events", "x",
          {{"Authorization", "Bearer dev" + std::to_string(i) + "." + std::to_string(k)}});
      if (r && r->status == 401) {
        ++refused;
      } else {
        ++other;
        if (!r) {
          conn = testing::HttpsConnection::Connect(c.tls(), c.port(), 10s);
        }
      }
    }
  });
  const double took = Seconds(Steady::now() - start);
  prober.Finish();
  std::printf(
      "bad-tokens: %d requests with bad tokens answered 401 in %.1f s (%.0f req/s), %d "
      "other\n",
      refused.load(), took, refused / took, other.load());
  Verdict v;
  Report(c, prober, v);
  v.Expect(refused == static_cast<int>(kConnections) * kEach, "not every bad token got a 401");
  return v;
}

// Issue 14, finding 3: lists loaded every screenshot and event body. 40 concerns with 4 MiB
// screenshots are uploaded (marked "in danger now", which no quota holds back), then every page
// of the DSL's and IT's event and concern lists is read; the collector's peak RSS over what it
// held before the lists is the figure.
Verdict ConcernListing(Collector& c) {
  std::string secret;
  std::map<std::string, std::string> tokens;
  c.Start({.extra_args = {}, .nofile = 0, .before_serve = [&](const std::string& data) {
             c.Output({"add-group", "--data-dir", data, "--name", "learners", "--pubkey",
                       std::string(64, 'a')});
             secret = c.Output({"enrolment-secret", "--data-dir", data, "--group", "learners"});
             for (const std::string role : {"dsl", "it"}) {
               tokens[role] = c.Output({"token", "create", "--data-dir", data, "--role", role,
                                        "--name", "staff-" + role});
             }
           }});
  Verdict v;
  auto conn = testing::HttpsConnection::Connect(c.tls(), c.port(), 10s);
  v.Expect(conn.has_value(), "cannot connect");
  if (!conn) {
    return v;
  }
  ward::v1::EnrolRequest enrol;
  enrol.set_enrolment_secret(secret);
  enrol.set_hostname("laptop-1");
  enrol.set_machine_hash("machine-1");
  auto enrolled = (*conn)->Request("POST", "/v1/enrol", enrol.SerializeAsString(), {},
                                   "application/x-protobuf");
  ward::v1::EnrolResponse device;
  if (!enrolled || enrolled->status != 200 || !device.ParseFromString(enrolled->body)) {
    v.Expect(false, "enrolment failed");
    return v;
  }
  const std::string bearer = "Bearer " + device.device_id() + "." + device.credential();
  constexpr int kConcerns = 40;
  constexpr std::size_t kScreenshot = 4 * 1024 * 1024;
  UuidV7Generator ids(SystemClock(), SystemRandom());
  std::string png(kScreenshot, '\0');
  for (std::size_t i = 0; i < png.size(); ++i) {
    png[i] = static_cast<char>((i * 2654435761U) >> 13);
  }
  int stored = 0;
  for (int i = 0; i < kConcerns; ++i) {
    ward::v1::EventBatch batch;
    ward::v1::Event* e = batch.add_events();
    e->set_id(ids.Next().ToString());
    e->set_priority(ward::v1::PRIORITY_CRITICAL);
    e->mutable_device_time()->set_seconds(1'700'000'000 + i);
    e->mutable_concern()->set_reference("K7QF-" + std::to_string(1000 + i));
    e->mutable_concern()->set_text("someone keeps sending me messages after school");
    e->mutable_concern()->set_in_danger(true);
    e->mutable_concern()->set_screenshot_png(png);
    for (int attempt = 0; attempt < 20; ++attempt) {
      auto r = (*conn)->Request("POST", "/v1/events", batch.SerializeAsString(),
                                {{"Authorization", bearer}}, "application/x-protobuf");
      if (r && r->status == 200) {
        ++stored;
        break;
      }
      std::this_thread::sleep_for(1s);  // 429: the per-device rate limit
    }
  }
  std::this_thread::sleep_for(500ms);
  const long before_kb = c.RssKb();
  c.ResetPeakRss();
  const auto start = Steady::now();
  bool screenshot_in_a_list = false;
  for (const auto& [role, path, cursor_param] :
       std::vector<std::tuple<std::string, std::string, std::string>>{
           {"dsl", "/v1/staff/events?limit=1000", "after"},
           {"dsl", "/v1/staff/concerns?limit=1000", "cursor"},
           {"it", "/v1/staff/events?limit=1000", "after"},
           {"it", "/v1/staff/concerns?limit=1000", "cursor"}}) {
    std::size_t bytes = 0;
    int pages = 0;
    std::string cursor;
    do {
      const std::string page = path + (cursor.empty() ? "" : "&" + cursor_param + "=" + cursor);
      // A connection of its own: a failed answer leaves a connection unusable.
      auto lister = testing::HttpsConnection::Connect(c.tls(), c.port(), 60s);
      auto r = lister ? (*lister)->Request("GET", page, "",
                                           {{"Authorization", "Bearer " + tokens[role]}})
                      : Result<testing::HttpsResponse>(std::unexpected(lister.error()));
      if (!r || r->status != 200) {
        const std::string why = r ? "status " + std::to_string(r->status) : r.error().ToString();
        std::printf("%s GET %s failed: %s\n", role.c_str(), page.c_str(), why.c_str());
        v.Expect(false, role + " " + path + " failed");
        break;
      }
      ++pages;
      bytes += r->body.size();
      screenshot_in_a_list |= r->body.find("screenshot_png") != std::string::npos;
      cursor = r->headers["ward-next-cursor"];
    } while (!cursor.empty() && pages < 1000);
    std::printf("%s GET %s: %d page(s), %zu bytes\n", role.c_str(), path.c_str(), pages, bytes);
  }
  const double took = Seconds(Steady::now() - start);
  const long peak_kb = c.PeakRssKb();
  std::printf(
      "concern-listing: %d of %d concerns with %zu MiB screenshots stored; the lists took %.1f s; "
      "collector RSS %ld MB before them, peak %ld MB while they ran (+%ld MB)\n",
      stored, kConcerns, kScreenshot >> 20, took, before_kb / 1024, peak_kb / 1024,
      (peak_kb - before_kb) / 1024);
  v.Expect(stored == kConcerns, "not every concern was stored");
  v.Expect(!screenshot_in_a_list, "a list carried a screenshot");
  v.Expect(peak_kb - before_kb < 64 * 1024,
           "the lists raised the collector's peak RSS by 64 MB or more");
  return v;
}

void RaiseDescriptorLimit() {
  rlimit lim{};
  ::getrlimit(RLIMIT_NOFILE, &lim);
  // Root may raise the hard limit; others get what the hard limit allows.
  const rlimit want{65536, std::max<rlim_t>(lim.rlim_max, 65536)};
  if (::setrlimit(RLIMIT_NOFILE, &want) != 0) {
    lim.rlim_cur = lim.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &lim);
  }
}

int Main(int argc, char** argv) {
  std::string collector;
  std::string attack;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string key = argv[i];
    if (key == "--collector") {
      collector = argv[i + 1];
    } else if (key == "--attack") {
      attack = argv[i + 1];
    } else {
      Die("unknown option " + key);
    }
  }
  if (collector.empty() || attack.empty()) {
    Die("usage: ward_http_attack --collector PATH --attack NAME");
  }
  ::signal(SIGPIPE, SIG_IGN);
  RaiseDescriptorLimit();
  const std::vector<std::pair<std::string, std::function<Verdict(Collector&)>>> attacks = {
      {"pipeline-noread", PipelineNoRead},
      {"slow-head", SlowHead},
      {"trickle-hello", TrickleHelloAttack},
      {"short-body", ShortBody},
      {"capacity", Capacity},
      {"flood20k", Flood20k},
      {"fd-exhaust", FdExhaust},
      {"tls-versions", TlsVersions},
      {"handshakes", Handshakes},
      {"bad-tokens", BadTokens},
      {"concern-listing", ConcernListing},
  };
  for (const auto& [name, run] : attacks) {
    if (name != attack) {
      continue;
    }
    const auto start = Steady::now();
    Collector c(collector);
    Verdict v = run(c);
    c.Stop();
    std::printf("%s took %.1f s\n", name.c_str(), Seconds(Steady::now() - start));
    if (v.failures.empty()) {
      std::printf("PASS\n");
      return 0;
    }
    for (const auto& f : v.failures) {
      std::printf("FAIL: %s\n", f.c_str());
    }
    return 1;
  }
  Die("unknown attack " + attack);
}

}  // namespace
}  // namespace ward::security

int main(int argc, char** argv) { return ward::security::Main(argc, argv); }
