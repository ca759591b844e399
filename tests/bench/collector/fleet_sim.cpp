// SPDX-License-Identifier: Apache-2.0
// ward_fleet_sim: N virtual agents in one process speaking the real protocol (HTTPS, protobuf)
// to a real ward-collector process on loopback. Scenarios:
//   ingest    sustained events/s one collector stores (K connections sending big batches)
//   longpoll  N agents long-polling; push a policy; time until 99% hold it; collector RSS
//   latency   N agents each uploading a batch every 10 s; p50/p99 upload latency
// Every phase has a deadline; the collector is stopped by its PID at the end.
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <functional>
#include <iostream>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "ward/collector/storage/secrets.h"
#include "ward/collector/storage/storage.h"
#include "ward/common/clock.h"
#include "ward/common/random.h"
#include "ward/common/uuid.h"
#include "ward/testing/collector_support.h"
#include "ward/testing/https_client.h"
#include "ward/testing/postgres_server.h"
#include "ward/v1/sync.pb.h"

namespace ward::bench {
namespace {

using Steady = std::chrono::steady_clock;
using testing::HttpsConnection;

struct Options {
  std::string collector_bin;
  std::string backend = "sqlite";
  std::vector<std::string> scenarios = {"ingest"};
  int agents = 5000;
  int ingest_connections = 4;
  int ingest_batch = 1000;
  int ingest_seconds = 10;
  // ingest: 0 sends events without an account (ward.v1.Event.user); N > 0 names one of N
  // accounts per event in turn, as a laptop's agent does for its learners.
  int ingest_users = 0;
  int latency_agents = 2000;
  int latency_seconds = 40;
  int latency_batch = 20;
  int collector_workers = 4;
  // longpoll: each agent connects (TLS handshake done) before the next starts, so the parked
  // RSS is the steady state of the parked connections, not the high-water mark of thousands
  // of handshakes at once on a loaded machine.
  bool serial_connect = false;
};

// What Die() stops before exiting: the collector and PostgreSQL this run started (std::exit
// runs no destructor of the Sim, which lives on main's stack).
std::mutex g_cleanup_mu;
std::function<void()> g_cleanup;

void Die(const std::string& what) {
  std::cerr << "ward_fleet_sim: " << what << "\n";
  {
    std::scoped_lock lock(g_cleanup_mu);
    if (g_cleanup) {
      std::exchange(g_cleanup, nullptr)();
    }
  }
  std::exit(1);
}

// A thread with a small stack: 5,000 of them must fit comfortably.
class SmallThread {
 public:
  explicit SmallThread(std::function<void()> fn) : fn_(std::move(fn)) {
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 256 * 1024);
    if (pthread_create(&thread_, &attr, &SmallThread::Run, this) != 0) {
      Die("pthread_create failed (raise the thread limit)");
    }
    pthread_attr_destroy(&attr);
  }
  ~SmallThread() { pthread_join(thread_, nullptr); }
  SmallThread(const SmallThread&) = delete;
  SmallThread& operator=(const SmallThread&) = delete;

 private:
  static void* Run(void* self) {
    static_cast<SmallThread*>(self)->fn_();
    return nullptr;
  }
  std::function<void()> fn_;
  pthread_t thread_{};
};

long RssKb(pid_t pid, const std::string& field) { return testing::ProcessStatusKb(pid, field); }

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) {
    return 0;
  }
  std::sort(v.begin(), v.end());
  const auto idx = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1));
  return v[idx];
}

// ward::SystemRandom() costs ~100 us per UUID on this machine (std::random_device per word);
// event ids for load only need to be unique, so a locked splitmix64 stands in.
class FastRandom final : public Random {
 public:
  void Fill(std::span<std::uint8_t> out) override {
    std::scoped_lock lock(mu_);
    inner_.Fill(out);
  }

 private:
  std::mutex mu_;
  SeededRandom inner_{static_cast<std::uint64_t>(::getpid())};
};

struct Agent {
  std::string id;
  std::string credential;
  std::string Bearer() const { return "Bearer " + id + "." + credential; }
};

class Sim {
 public:
  explicit Sim(Options o) : o_(std::move(o)) {}

  void Run() {
    {
      std::scoped_lock lock(g_cleanup_mu);
      g_cleanup = [this] {
        StopCollector();
        pg_.reset();
      };
    }
    RaiseLimits();
    auto pki = testing::CreateTestPki(dir_.path());
    if (!pki) {
      Die(pki.error().ToString());
    }
    pki_ = *pki;
    auto signer = testing::PolicySigner::Generate();
    if (!signer) {
      Die(signer.error().ToString());
    }
    signer_ = std::move(*signer);
    Seed();
    StartCollector();
    auto tls = testing::TlsClientContext::Create(pki_.ca_cert);
    if (!tls) {
      Die(tls.error().ToString());
    }
    tls_ = *tls;
    WaitHealthy();
    for (const std::string& s : o_.scenarios) {
      if (s == "ingest") {
        Ingest();
      } else if (s == "longpoll") {
        LongPoll();
      } else if (s == "latency") {
        Latency();
      } else {
        Die("unknown scenario " + s);
      }
    }
    StopCollector();
  }

  ~Sim() {
    {
      std::scoped_lock lock(g_cleanup_mu);
      g_cleanup = nullptr;
    }
    StopCollector();
  }

 private:
  static void RaiseLimits() {
    rlimit lim{};
    getrlimit(RLIMIT_NOFILE, &lim);
    lim.rlim_cur = lim.rlim_max;
    setrlimit(RLIMIT_NOFILE, &lim);
    std::printf("file descriptor limit: %lu\n", static_cast<unsigned long>(lim.rlim_cur));
    ::signal(SIGPIPE, SIG_IGN);
  }

  void Seed() {
    if (o_.backend == "postgres") {
      testing::PostgresServer::Options po;
      po.fsync = true;  // measure with PostgreSQL's durable defaults
      auto pg = testing::PostgresServer::Start(po);
      if (!pg) {
        Die(pg.error().ToString());
      }
      pg_ = std::move(*pg);
      auto conninfo = pg_->CreateDatabase("fleet");
      if (!conninfo) {
        Die(conninfo.error().ToString());
      }
      storage_url_ = "postgresql:" + *conninfo;
    } else {
      storage_url_ = "sqlite:" + (dir_.path() / "collector.db").string();
    }
    auto store = OpenStorageOrDie();
    if (!store->CreateGroup({"fleet", signer_->public_key_hex()})) {
      Die("create group");
    }
    secret_ = collector::NewSecret("wes_");
    token_ = collector::NewSecret("wst_");
    metrics_token_ = collector::NewSecret("wst_");
    if (!store->AddEnrolmentSecret(collector::HashSecret(secret_), "fleet", 1) ||
        !store->CreateStaffToken("bench-it", collector::StaffRole::kIt,
                                 collector::HashSecret(token_), 1) ||
        !store->CreateStaffToken("bench-metrics", collector::StaffRole::kMetrics,
                                 collector::HashSecret(metrics_token_), 1)) {
      Die("seed store");
    }
  }

  std::unique_ptr<collector::Storage> OpenStorageOrDie() {
    auto store = collector::OpenStorage(storage_url_);
    if (!store) {
      Die(store.error().ToString());
    }
    return std::move(*store);
  }

  void StartCollector() {
    port_ = testing::FreeLoopbackPort();
    const std::vector<std::string> args = {
        o_.collector_bin, "serve", "--storage", storage_url_, "--listen",
        "127.0.0.1:" + std::to_string(port_), "--tls-cert", pki_.server_cert.string(), "--tls-key",
        pki_.server_key.string(), "--workers", std::to_string(o_.collector_workers),
        "--device-rate-per-second", "1000", "--device-burst", "1000",
        // Every virtual agent enrols from 127.0.0.1 at once.
        "--enrol-per-address-per-minute", "1000000", "--enrol-address-burst", "1000000",
        "--enrol-per-group-per-minute", "1000000", "--enrol-group-burst", "1000000", "--log-level",
        "warning"};
    std::vector<char*> argv;
    for (const auto& a : args) {
      argv.push_back(const_cast<char*>(a.c_str()));
    }
    argv.push_back(nullptr);
    collector_pid_ = ::fork();
    if (collector_pid_ == 0) {
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
    std::printf("collector pid %d on 127.0.0.1:%u, store %s\n", collector_pid_, port_,
                o_.backend.c_str());
  }

  void StopCollector() {
    if (collector_pid_ > 0) {
      ::kill(collector_pid_, SIGTERM);
      int status = 0;
      ::waitpid(collector_pid_, &status, 0);
      collector_pid_ = -1;
    }
  }

  // Connections come from 200 loopback addresses in turn (127.1.0.1 to 127.1.0.200), as a fleet
  // of laptops would, so the collector's per-address connection cap sees hosts, not one client.
  std::unique_ptr<HttpsConnection> ConnectOrNull() {
    const unsigned host = next_source_++ % 200 + 1;
    auto c = HttpsConnection::Connect(tls_, port_, std::chrono::seconds(60),
                                      "127.1.0." + std::to_string(host));
    return c ? std::move(*c) : nullptr;
  }

  void WaitHealthy() {
    const auto deadline = Steady::now() + std::chrono::seconds(20);
    while (Steady::now() < deadline) {
      if (auto c = ConnectOrNull()) {
        auto r = c->Request("GET", "/healthz");
        if (r && r->status == 200) {
          return;
        }
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    Die("collector did not become healthy");
  }

  std::vector<Agent> EnrolAgents(int n) {
    std::vector<Agent> agents(static_cast<std::size_t>(n));
    std::atomic<int> next{0};
    std::atomic<int> failed{0};
    const auto start = Steady::now();
    {
      std::vector<std::unique_ptr<SmallThread>> pool;
      for (int t = 0; t < 8; ++t) {
        pool.push_back(std::make_unique<SmallThread>([&] {
          auto conn = ConnectOrNull();
          for (int i = next++; i < n; i = next++) {
            ward::v1::EnrolRequest req;
            req.set_enrolment_secret(secret_);
            req.set_hostname("sim-" + std::to_string(i));
            req.set_machine_hash(collector::NewSecret());
            auto r = conn ? conn->Request("POST", "/v1/enrol", req.SerializeAsString())
                          : Result<testing::HttpsResponse>(UnavailableError("no connection"));
            ward::v1::EnrolResponse out;
            if (!r || r->status != 200 || !out.ParseFromString(r->body)) {
              ++failed;
              conn = ConnectOrNull();
              continue;
            }
            agents[static_cast<std::size_t>(i)] = {out.device_id(), out.credential()};
          }
        }));
      }
    }
    if (failed > 0) {
      Die(std::to_string(failed.load()) + " enrolments failed");
    }
    std::printf("enrolled %d agents in %.1f s\n", n,
                std::chrono::duration<double>(Steady::now() - start).count());
    return agents;
  }

  std::string Batch(int events) {
    ward::v1::EventBatch batch;
    for (int i = 0; i < events; ++i) {
      ward::v1::Event* e = batch.add_events();
      e->set_id(ids_.Next().ToString());
      e->set_priority(ward::v1::PRIORITY_NORMAL);
      e->mutable_device_time()->set_seconds(1'700'000'000 + i);
      e->set_policy_version(1);
      if (o_.ingest_users > 0) {
        e->set_user("learner" + std::to_string(i % o_.ingest_users));
      }
      auto* usb = e->mutable_usb();
      usb->set_kind(ward::v1::UsbEvent::KIND_DECIDED);
      usb->set_decision(ward::v1::DECISION_WOULD_BLOCK);
      usb->mutable_device()->set_device_id("0781:5567");
      usb->mutable_device()->set_name("Cruzer Blade");
      usb->mutable_device()->add_interfaces("08:06:50");
    }
    return batch.SerializeAsString();
  }

  void Ingest() {
    const std::vector<Agent> agents = EnrolAgents(o_.ingest_connections);
    std::atomic<std::uint64_t> acked{0};
    std::atomic<int> errors{0};
    std::atomic<bool> stop{false};
    Steady::time_point start;
    {
      std::vector<std::unique_ptr<SmallThread>> threads;
      std::atomic<int> ready{0};
      for (const Agent& a : agents) {
        threads.push_back(std::make_unique<SmallThread>([&, a] {
          auto conn = ConnectOrNull();
          // Batches are built before the clock starts: the client's CPU is not the subject.
          std::vector<std::string> batches;
          for (int i = 0; i < 40; ++i) {
            batches.push_back(Batch(o_.ingest_batch));
          }
          ++ready;
          while (ready.load() < static_cast<int>(agents.size())) {
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
          }
          std::size_t next = 0;
          while (!stop.load() && conn) {
            if (next == batches.size()) {
              // Out of prepared ids: build more (counted in the run, so runs stay honest).
              batches.push_back(Batch(o_.ingest_batch));
            }
            auto r = conn->Request("POST", "/v1/events", batches[next++],
                                   {{"Authorization", a.Bearer()}});
            ward::v1::EventBatchAck ack;
            if (!r || r->status != 200 || !ack.ParseFromString(r->body)) {
              ++errors;
              conn = ConnectOrNull();
              continue;
            }
            acked += static_cast<std::uint64_t>(ack.acked_ids_size());
          }
        }));
      }
      while (ready.load() < static_cast<int>(agents.size())) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
      start = Steady::now();
      std::this_thread::sleep_for(std::chrono::seconds(o_.ingest_seconds));
      stop = true;
    }
    const double secs = std::chrono::duration<double>(Steady::now() - start).count();
    auto store = OpenStorageOrDie();
    const auto stored = store->CountEvents();
    std::printf(
        "RESULT ingest backend=%s connections=%d batch=%d seconds=%.1f acked=%lu stored=%lu "
        "events_per_s=%.0f errors=%d collector_rss_mb=%.1f\n",
        o_.backend.c_str(), o_.ingest_connections, o_.ingest_batch, secs,
        static_cast<unsigned long>(acked.load()), static_cast<unsigned long>(stored.value_or(0)),
        static_cast<double>(acked.load()) / secs, errors.load(),
        static_cast<double>(RssKb(collector_pid_, "VmRSS")) / 1024.0);
  }

  std::uint64_t LongPollsWaiting() {
    auto c = ConnectOrNull();
    if (!c) {
      return 0;
    }
    // A collector before issue 14 ignores the token (its /metrics was public).
    auto r = c->Request("GET", "/metrics", "", {{"Authorization", "Bearer " + metrics_token_}});
    if (!r) {
      return 0;
    }
    const std::string key = "\nward_collector_long_polls_waiting ";
    const auto pos = r->body.find(key);
    if (pos == std::string::npos) {
      return 0;
    }
    std::uint64_t v = 0;
    const char* begin = r->body.data() + pos + key.size();
    std::from_chars(begin, r->body.data() + r->body.size(), v);
    return v;
  }

  void LongPoll() {
    const int n = o_.agents;
    const std::vector<Agent> agents = EnrolAgents(n);
    const long rss_before = RssKb(collector_pid_, "VmRSS");
    std::vector<double> arrival_s(static_cast<std::size_t>(n), -1.0);
    std::atomic<bool> pushed{false};
    std::atomic<int> failures{0};
    Steady::time_point push_time;
    std::mutex push_mu;
    long rss_parked = 0;
    std::atomic<int> connected{0};
    {
      std::vector<std::unique_ptr<SmallThread>> threads;
      threads.reserve(static_cast<std::size_t>(n));
      for (int i = 0; i < n; ++i) {
        while (o_.serial_connect && connected.load() < i) {
          std::this_thread::sleep_for(std::chrono::microseconds(200));
        }
        threads.push_back(std::make_unique<SmallThread>([&, i] {
          const Agent& a = agents[static_cast<std::size_t>(i)];
          auto conn = ConnectOrNull();
          ++connected;
          const auto deadline = Steady::now() + std::chrono::seconds(90);
          while (conn && Steady::now() < deadline) {
            ward::v1::PolicyFetchRequest req;
            req.set_current_version(0);
            req.set_wait_seconds(30);
            auto r = conn->Request("POST", "/v1/policy", req.SerializeAsString(),
                                   {{"Authorization", a.Bearer()}});
            ward::v1::PolicyFetchResponse resp;
            if (!r || r->status != 200 || !resp.ParseFromString(r->body)) {
              ++failures;
              conn = ConnectOrNull();
              continue;
            }
            if (resp.has_policy()) {
              Steady::time_point t0;
              {
                std::scoped_lock lock(push_mu);
                t0 = push_time;
              }
              arrival_s[static_cast<std::size_t>(i)] =
                  std::chrono::duration<double>(Steady::now() - t0).count();
              return;
            }
          }
        }));
      }
      // Wait until every agent is parked (bounded), sample memory, then push once.
      const auto park_deadline = Steady::now() + std::chrono::seconds(120);
      std::uint64_t waiting = 0;
      while ((waiting = LongPollsWaiting()) < static_cast<std::uint64_t>(n) &&
             Steady::now() < park_deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
      }
      rss_parked = RssKb(collector_pid_, "VmRSS");
      std::printf("%lu long-polls waiting; collector RSS %.1f MB (before agents %.1f MB)\n",
                  static_cast<unsigned long>(waiting), static_cast<double>(rss_parked) / 1024.0,
                  static_cast<double>(rss_before) / 1024.0);
      auto policy = signer_->SignedPolicyBytes(1, "bench");
      auto conn = ConnectOrNull();
      if (!policy || !conn) {
        Die("cannot push");
      }
      {
        std::scoped_lock lock(push_mu);
        push_time = Steady::now();
        pushed = true;
      }
      auto r = conn->Request("POST", "/v1/staff/policy?group=fleet", *policy,
                             {{"Authorization", "Bearer " + token_}});
      if (!r || r->status != 200) {
        Die("push failed: " + (r ? r->body : r.error().ToString()));
      }
    }
    std::vector<double> got;
    for (double s : arrival_s) {
      if (s >= 0) {
        got.push_back(s);
      }
    }
    std::printf(
        "RESULT longpoll backend=%s agents=%d received=%zu p50_s=%.3f p99_s=%.3f max_s=%.3f "
        "collector_rss_parked_mb=%.1f collector_peak_rss_mb=%.1f failures=%d\n",
        o_.backend.c_str(), n, got.size(), Percentile(got, 0.50), Percentile(got, 0.99),
        got.empty() ? 0.0 : *std::max_element(got.begin(), got.end()),
        static_cast<double>(rss_parked) / 1024.0,
        static_cast<double>(RssKb(collector_pid_, "VmHWM")) / 1024.0, failures.load());
  }

  void Latency() {
    const int n = o_.latency_agents;
    const std::vector<Agent> agents = EnrolAgents(n);
    std::mutex mu;
    std::vector<double> latencies_ms;
    std::atomic<int> errors{0};
    const auto start = Steady::now() + std::chrono::seconds(1);
    const auto end = start + std::chrono::seconds(o_.latency_seconds);
    {
      std::vector<std::unique_ptr<SmallThread>> threads;
      for (int i = 0; i < n; ++i) {
        threads.push_back(std::make_unique<SmallThread>([&, i] {
          const Agent& a = agents[static_cast<std::size_t>(i)];
          std::mt19937 rng(static_cast<unsigned>(i));
          // Each agent starts at a random phase of the 10 s period, like a real fleet.
          auto next = start + std::chrono::milliseconds(rng() % 10000);
          auto conn = ConnectOrNull();
          std::vector<double> mine;
          while (next < end) {
            std::string batch;
            {
              std::scoped_lock lock(mu);
              batch = Batch(o_.latency_batch);
            }
            std::this_thread::sleep_until(next);
            if (!conn) {
              conn = ConnectOrNull();
            }
            const auto t0 = Steady::now();
            auto r =
                conn ? conn->Request("POST", "/v1/events", batch, {{"Authorization", a.Bearer()}})
                     : Result<testing::HttpsResponse>(UnavailableError("no connection"));
            const auto t1 = Steady::now();
            if (!r || r->status != 200) {
              ++errors;
              conn.reset();
            } else {
              mine.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
            }
            next += std::chrono::seconds(10);
          }
          std::scoped_lock lock(mu);
          latencies_ms.insert(latencies_ms.end(), mine.begin(), mine.end());
        }));
      }
    }
    std::printf(
        "RESULT latency backend=%s agents=%d batch=%d period_s=10 seconds=%d uploads=%zu "
        "p50_ms=%.2f p99_ms=%.2f max_ms=%.2f errors=%d\n",
        o_.backend.c_str(), n, o_.latency_batch, o_.latency_seconds, latencies_ms.size(),
        Percentile(latencies_ms, 0.5), Percentile(latencies_ms, 0.99),
        latencies_ms.empty() ? 0.0 : *std::max_element(latencies_ms.begin(), latencies_ms.end()),
        errors.load());
  }

  const Options o_;
  testing::TempDir dir_;
  testing::TestPki pki_;
  std::unique_ptr<testing::PolicySigner> signer_;
  std::unique_ptr<testing::PostgresServer> pg_;
  std::string storage_url_;
  std::string secret_;
  std::string token_;
  std::string metrics_token_;
  std::uint16_t port_ = 0;
  std::atomic<unsigned> next_source_{0};
  pid_t collector_pid_ = -1;
  std::shared_ptr<testing::TlsClientContext> tls_;
  FastRandom random_;
  UuidV7Generator ids_{SystemClock(), random_};
};

std::vector<std::string> SplitComma(const std::string& s) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (true) {
    const std::size_t comma = s.find(',', start);
    out.push_back(s.substr(start, comma - start));
    if (comma == std::string::npos) {
      return out;
    }
    start = comma + 1;
  }
}

constexpr const char* kUsage =
    "usage: ward_fleet_sim --collector PATH [--backend sqlite|postgres]\n"
    "         [--scenarios ingest,longpoll,latency] [--agents 5000] [--ingest-connections 4]\n"
    "         [--ingest-batch 1000] [--ingest-seconds 10] [--ingest-users 0]\n"
    "         [--latency-agents 2000]\n"
    "         [--latency-seconds 40] [--latency-batch 20] [--workers 4]\n"
    "         [--serial-connect 0|1]\n";

}  // namespace
}  // namespace ward::bench

int main(int argc, char** argv) {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  ward::bench::Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--help") {
      std::cout << ward::bench::kUsage;
      return 0;
    }
    if (i + 1 >= argc) {
      std::cerr << ward::bench::kUsage;
      return 2;
    }
    const std::string v = argv[++i];
    if (a == "--collector") {
      o.collector_bin = v;
    } else if (a == "--backend") {
      o.backend = v;
    } else if (a == "--scenarios") {
      o.scenarios = ward::bench::SplitComma(v);
    } else if (a == "--agents") {
      o.agents = std::stoi(v);
    } else if (a == "--ingest-connections") {
      o.ingest_connections = std::stoi(v);
    } else if (a == "--ingest-batch") {
      o.ingest_batch = std::stoi(v);
    } else if (a == "--ingest-seconds") {
      o.ingest_seconds = std::stoi(v);
    } else if (a == "--ingest-users") {
      o.ingest_users = std::stoi(v);
    } else if (a == "--latency-agents") {
      o.latency_agents = std::stoi(v);
    } else if (a == "--latency-seconds") {
      o.latency_seconds = std::stoi(v);
    } else if (a == "--latency-batch") {
      o.latency_batch = std::stoi(v);
    } else if (a == "--workers") {
      o.collector_workers = std::stoi(v);
    } else if (a == "--serial-connect") {
      o.serial_connect = v == "1";
    } else {
      std::cerr << "unknown option " << a << "\n" << ward::bench::kUsage;
      return 2;
    }
  }
  if (o.collector_bin.empty()) {
    std::cerr << ward::bench::kUsage;
    return 2;
  }
  ward::bench::Sim sim(o);
  sim.Run();
  return 0;
}
