// SPDX-License-Identifier: Apache-2.0
// The learner's side of "Report a concern", timed: a real ward Agent (encrypted store, IPC
// server, sync with its production options) and the real collector in its own process on
// loopback; the client is the IPC library the tray links, so "Send" here is the tray's Send.
//
// Online: each round sends a concern and times (a) the answer with the reference code (the
// concern is durable on the laptop) and (b) the ConcernReceivedNotice, which the agent sends
// only after the collector acknowledged the upload, i.e. after its commit (so (b) bounds
// "stored at the collector" from above).
//
// Outage: the collector is killed, a concern is sent and waits while the agent backs off, then
// the collector comes back; timed from "serving again" to the notice. Run twice side by side:
// with the agent's critical_retry_cap (2 s) and with the cap lifted to the plain backoff cap
// (5 min), i.e. how a concern would wait without it.
//
//   ward_concern_latency_bench [ONLINE_ROUNDS]
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "../../agent/sync/sync_test_support.h"
#include "ward/agent/ipc/ipc_client.h"
#include "ward/app/agent.h"
#include "ward/common/log.h"

namespace {

using namespace ward;
using namespace std::chrono_literals;
using Steady = std::chrono::steady_clock;
namespace st = ward::agent::sync::testing;

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "concern latency bench: %s\n", what.c_str());
  std::exit(1);
}

class Notices final : public agent::ipc::NoticeSink {
 public:
  void Notify(v1::Notice notice) override {
    if (notice.has_concern_received()) {
      std::scoped_lock lock(mu_);
      received_.push_back(notice.concern_received().reference());
    }
  }
  bool Received(const std::string& reference) {
    std::scoped_lock lock(mu_);
    return std::find(received_.begin(), received_.end(), reference) != received_.end();
  }

 private:
  std::mutex mu_;
  std::vector<std::string> received_;
};

double Ms(Steady::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

struct Stats {
  double p50 = 0, p95 = 0, max = 0;
};
Stats Of(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  if (v.empty()) {
    return {};
  }
  auto at = [&](double q) {
    return v[static_cast<std::size_t>(q * static_cast<double>(v.size() - 1))];
  };
  return {at(0.5), at(0.95), v.back()};
}

class Bench {
 public:
  explicit Bench(std::chrono::milliseconds critical_retry_cap) {
    auto key = policy::SigningKey::Generate();
    if (!key.has_value()) {
      Die(key.error().ToString());
    }
    collector_ =
        std::make_unique<st::CollectorProcess>(dir_.path() / "collector", st::PublicKeyHex(*key));
    collector_->Start();
    ::chmod(dir_.path().c_str(), 0755);
    if (!key->public_key().WriteFile(dir_.path() / "policy.pub").has_value()) {
      Die("cannot write the public key");
    }
    Write(dir_.path() / "policy.bundle", st::SignedPolicyOf(*key, 1).SerializeAsString());
    Write(dir_.path() / "enrolment.secret", collector_->secret() + "\n");
    ::chmod((dir_.path() / "enrolment.secret").c_str(), 0600);  // the agent refuses it otherwise
    app::AgentConfig config;
    config.policy_bundle = dir_.path() / "policy.bundle";
    config.policy_key = dir_.path() / "policy.pub";
    config.state_dir = dir_.path() / "state";
    config.status_file = dir_.path() / "agent.status";
    config.ipc_socket = dir_.path() / "run/agent.sock";
    config.usb = config.exec = config.settings = false;
    config.collector_url = collector_->url();
    config.collector_ca = collector_->ca_file();
    config.enrolment_secret_file = dir_.path() / "enrolment.secret";
    auto deps = app::AgentDeps::Create(config);
    if (!deps.has_value() || !(*deps)->degraded.empty()) {
      Die(deps.has_value() ? (*deps)->degraded.front() : deps.error().ToString());
    }
    (*deps)->sync_options.critical_retry_cap = critical_retry_cap;
    agent_ = std::make_unique<app::Agent>(*std::move(deps));
    if (auto started = agent_->Start(); !started.has_value()) {
      Die(started.error().ToString());
    }
    auto client = agent::ipc::IpcClient::Connect({.endpoint = config.ipc_socket}, &notices_);
    if (!client.has_value() || !(*client)->Subscribe().has_value()) {
      Die("cannot connect to the agent's socket");
    }
    client_ = *std::move(client);
    if (!st::WaitUntil([&] { return agent_->sync()->Snapshot().enrolled; }, 60s)) {
      Die("the agent did not enrol");
    }
  }
  ~Bench() {
    client_.reset();
    agent_.reset();
  }

  // Sends one concern; returns its reference (and the time the answer came, in `saved`).
  std::string Send(Steady::time_point& saved) {
    v1::SubmitConcernRequest request;
    request.set_category(v1::CONCERN_CATEGORY_BULLYING);
    request.set_text("Someone in my class keeps sending me horrible messages.");
    auto sent = client_->SubmitConcern({}, request);
    saved = Steady::now();
    if (!sent.has_value()) {
      Die(sent.error().ToString());
    }
    return sent->reference();
  }

  // Waits for the "received by the safeguarding team" notice; its arrival time.
  Steady::time_point AwaitReceived(const std::string& reference, std::chrono::seconds limit) {
    const auto end = Steady::now() + limit;
    while (Steady::now() < end) {
      (void)client_->PumpNotices(20ms);
      if (notices_.Received(reference)) {
        return Steady::now();
      }
    }
    Die("no \"received\" for " + reference + " within " + std::to_string(limit.count()) + " s");
  }

  st::CollectorProcess& collector() { return *collector_; }
  app::Agent& agent() { return *agent_; }

 private:
  static void Write(const std::filesystem::path& path, const std::string& bytes) {
    std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
  }

  st::ScratchDir dir_;
  std::unique_ptr<st::CollectorProcess> collector_;
  Notices notices_;
  std::unique_ptr<app::Agent> agent_;
  std::unique_ptr<agent::ipc::IpcClient> client_;
};

// Collector down for `outage`, a concern sent at its start; ms from "serving again" to notice.
double OutageRound(Bench& bench, std::chrono::seconds outage) {
  bench.collector().Kill();
  Steady::time_point saved;
  const std::string reference = bench.Send(saved);
  std::this_thread::sleep_for(outage);
  bench.collector().Start();
  const auto back = Steady::now();
  return Ms(bench.AwaitReceived(reference, std::chrono::seconds(600)) - back);
}

}  // namespace

int main(int argc, char** argv) {
  log::SetMinLevel(log::Level::kError);
  const int rounds = argc > 1 ? std::stoi(argv[1]) : 100;
  const std::vector<std::chrono::seconds> outages = {2s, 5s, 10s, 20s, 40s};

  // The agent lets one user send 5 concerns in a burst (then one per 2 minutes): each agent
  // here sends at most 5, and a fresh agent (new store, new enrolment) takes the next five.
  // The five outage rounds are one agent's burst.
  constexpr int kPerAgent = 5;
  std::vector<double> saved_ms, received_ms, with_cap, without_cap;
  for (int done = 0; done < rounds;) {
    Bench bench(2s);  // the agent's default critical_retry_cap
    for (int i = 0; i < kPerAgent && done < rounds; ++i, ++done) {
      Steady::time_point saved;
      const auto send = Steady::now();
      const std::string reference = bench.Send(saved);
      const auto received = bench.AwaitReceived(reference, 30s);
      saved_ms.push_back(Ms(saved - send));
      received_ms.push_back(Ms(received - send));
    }
  }
  {
    Bench bench(2s);
    for (auto outage : outages) {
      with_cap.push_back(OutageRound(bench, outage));
    }
  }
  {
    Bench bench(5min);  // the cap lifted: a concern waits like telemetry
    for (auto outage : outages) {
      without_cap.push_back(OutageRound(bench, outage));
    }
  }
  const Stats s = Of(saved_ms), r = Of(received_ms);
  std::printf("online, %d rounds (ms)             p50      p95      max\n", rounds);
  std::printf("Send -> saved on the laptop     %8.2f %8.2f %8.2f\n", s.p50, s.p95, s.max);
  std::printf("Send -> received (collector ack)%8.2f %8.2f %8.2f\n", r.p50, r.p95, r.max);
  std::printf("ratio received/saved (p50): %.1f\n", s.p50 > 0 ? r.p50 / s.p50 : 0.0);
  std::printf("\ncollector back -> received (ms), by outage length\n");
  std::printf("outage   critical_retry_cap 2 s   cap lifted (plain backoff)\n");
  for (std::size_t i = 0; i < outages.size(); ++i) {
    std::printf("%4lld s   %20.0f   %26.0f\n", static_cast<long long>(outages[i].count()),
                with_cap[i], without_cap[i]);
  }
  const double worst_with = *std::max_element(with_cap.begin(), with_cap.end());
  const double worst_without = *std::max_element(without_cap.begin(), without_cap.end());
  std::printf("worst: %.0f ms with the cap, %.0f ms without (ratio %.1f)\n", worst_with,
              worst_without, worst_with > 0 ? worst_without / worst_with : 0.0);
  return 0;
}
