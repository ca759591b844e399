// SPDX-License-Identifier: Apache-2.0
// ward_concern_delivery_bench: how long from an agent's POST /v1/events carrying a CRITICAL
// ConcernEvent until (a) the collector has stored it (the 200 ack comes after the commit) and
// (b) the DSL's webhook receiver has the signed alert. Everything runs in this process on
// loopback: a collector over SQLite (or a throwaway PostgreSQL), the real AlertDispatcher with
// the real HTTPS webhook channel, and a Poco HTTPS receiver. For a side-by-side ratio the same
// run also times the POST of a non-concern (USB) event of the same device.
//   ward_concern_delivery_bench [--backend sqlite|postgres] [--rounds N]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "ward/collector/server/alerts.h"
#include "ward/collector/server/collector.h"
#include "ward/collector/storage/secrets.h"
#include "ward/common/clock.h"
#include "ward/common/log.h"
#include "ward/common/random.h"
#include "ward/common/uuid.h"
#include "ward/testing/alert_receivers.h"
#include "ward/testing/collector_support.h"
#include "ward/testing/https_client.h"
#include "ward/testing/postgres_server.h"
#include "ward/v1/sync.pb.h"

namespace ward::bench {
using namespace ward::collector;
namespace {

using Steady = std::chrono::steady_clock;
using namespace std::chrono_literals;

[[noreturn]] void Die(const std::string& what) {
  std::cerr << "concern delivery bench: " << what << "\n";
  std::exit(1);
}

template <typename T>
T OrDie(Result<T> r, const std::string& what) {
  if (!r.has_value()) {
    Die(what + ": " + r.error().ToString());
  }
  return std::move(*r);
}

struct Summary {
  double p50 = 0;
  double p95 = 0;
  double max = 0;
};

Summary Summarise(std::vector<double> ms) {
  std::sort(ms.begin(), ms.end());
  auto at = [&](double q) {
    return ms[std::min(ms.size() - 1,
                       static_cast<std::size_t>(q * static_cast<double>(ms.size())))];
  };
  return {at(0.50), at(0.95), ms.back()};
}

double Ms(Steady::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

int Run(int argc, char** argv) {
  std::string backend = "sqlite";
  int rounds = 200;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--backend") {
      backend = argv[i + 1];
    } else if (flag == "--rounds") {
      rounds = std::max(1, std::atoi(argv[i + 1]));
    } else {
      Die("unknown flag " + flag);
    }
  }
  log::SetMinLevel(log::Level::kError);
  testing::TempDir dir;
  const auto pki = OrDie(testing::CreateTestPki(dir.path()), "test PKI");
  std::unique_ptr<testing::PostgresServer> pg;
  std::unique_ptr<Storage> store;
  if (backend == "postgres") {
    testing::PostgresServer::Options o;
    o.fsync = true;
    pg = OrDie(testing::PostgresServer::Start(o), "postgres");
    store = OrDie(OpenPostgresStorage(OrDie(pg->CreateDatabase("bench"), "database")), "store");
  } else if (backend == "sqlite") {
    store = OrDie(OpenSqliteStorage((dir.path() / "c.db").string()), "store");
  } else {
    Die("--backend is sqlite or postgres");
  }
  if (!store->CreateGroup({"learners", std::string(64, 'a')}) ||
      !store->PutDevice({.id = "bench-device",
                         .group = "learners",
                         .hostname = "laptop",
                         .os = "debian",
                         .agent_version = "bench",
                         .machine_hash = "m",
                         .credential_hash = HashSecret("cred"),
                         .revoked = false,
                         .enrolled_at_ms = 1,
                         .last_seen_ms = 1,
                         .policy_version = 0,
                         .last_status = ""})) {
    Die("seeding the store");
  }
  auto receiver = OrDie(testing::WebhookReceiver::Start(pki.server_cert, pki.server_key), "hook");
  AlertConfig config;
  config.webhook = WebhookConfig{receiver->url(), "bench-secret-0123456789", pki.ca_cert, 10s};
  auto alerter = OrDie(CreateConcernAlerter(*store, config, SystemClock()), "alerter");
  CollectorOptions options;
  options.port = 0;
  options.tls_cert = pki.server_cert;
  options.tls_key = pki.server_key;
  options.device_rate_per_second = 1e6;
  options.device_burst = 1e6;
  auto collector = OrDie(Collector::Start(options, *store, *alerter, SystemClock()), "collector");
  auto tls = OrDie(testing::TlsClientContext::Create(pki.ca_cert), "client TLS");
  auto conn = OrDie(testing::HttpsConnection::Connect(tls, collector->port()), "connect");

  UuidV7Generator ids(SystemClock(), SystemRandom());
  auto post = [&](const ward::v1::Event& e) {
    ward::v1::EventBatch batch;
    *batch.add_events() = e;
    auto r = conn->Request("POST", "/v1/events", batch.SerializeAsString(),
                           {{"Authorization", "Bearer bench-device.cred"}});
    if (!r.has_value() || r->status != 200) {
      Die("upload failed");
    }
  };
  std::vector<double> stored_ms;
  std::vector<double> webhook_ms;
  std::vector<double> usb_ms;
  for (int i = 0; i < rounds + 5; ++i) {  // the first 5 warm up TLS sessions and caches
    ward::v1::Event usb;
    usb.set_id(ids.Next().ToString());
    usb.set_priority(ward::v1::PRIORITY_HIGH);
    usb.mutable_usb()->set_kind(ward::v1::UsbEvent::KIND_DECIDED);
    const auto u0 = Steady::now();
    post(usb);
    const auto u1 = Steady::now();

    ward::v1::Event concern;
    concern.set_id(ids.Next().ToString());
    concern.set_priority(ward::v1::PRIORITY_CRITICAL);
    concern.mutable_concern()->set_reference("BNCH-" + std::to_string(i));
    concern.mutable_concern()->set_text("benchmark concern text of a typical length, some words");
    concern.mutable_concern()->set_category(ward::v1::CONCERN_CATEGORY_BULLYING);
    const auto t0 = Steady::now();
    post(concern);
    const auto t1 = Steady::now();
    auto got = receiver->WaitFor(static_cast<std::size_t>(i + 1), 30s);
    if (got.size() != static_cast<std::size_t>(i + 1)) {
      Die("webhook did not arrive");
    }
    if (i >= 5) {
      usb_ms.push_back(Ms(u1 - u0));
      stored_ms.push_back(Ms(t1 - t0));
      webhook_ms.push_back(Ms(got.back().at - t0));
    }
  }
  const Summary usb = Summarise(usb_ms);
  const Summary stored = Summarise(stored_ms);
  const Summary hook = Summarise(webhook_ms);
  std::printf("backend %s, %d rounds, one keep-alive TLS connection, sequential\n", backend.c_str(),
              rounds);
  std::printf("%-38s p50 %7.2f ms  p95 %7.2f ms  max %7.2f ms\n", "USB event POST -> ack", usb.p50,
              usb.p95, usb.max);
  std::printf("%-38s p50 %7.2f ms  p95 %7.2f ms  max %7.2f ms\n", "concern POST -> stored (ack)",
              stored.p50, stored.p95, stored.max);
  std::printf("%-38s p50 %7.2f ms  p95 %7.2f ms  max %7.2f ms\n",
              "concern POST -> webhook received", hook.p50, hook.p95, hook.max);
  std::printf("ratio concern ack / USB ack (p50): %.2f; webhook / concern ack (p50): %.2f\n",
              stored.p50 / usb.p50, hook.p50 / stored.p50);
  collector->Stop();
  return 0;
}

}  // namespace
}  // namespace ward::bench

int main(int argc, char** argv) { return ward::bench::Run(argc, argv); }
