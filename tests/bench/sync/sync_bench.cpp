// SPDX-License-Identifier: Apache-2.0
// Events/s through the whole agent -> collector path: a real SQLCipher store filled with N
// events, the real SyncEngine and HTTPS transport, the real collector (SQLite) in a child
// process on loopback. Measures the time from Start() until the store is empty, with the
// collector's default per-device rate limit and with it lifted, side by side in one run.
//
//   ward_sync_bench [EVENTS] [BATCH]
#include <chrono>
#include <cstdio>
#include <string>

#include "../../agent/sync/sync_test_agent.h"
#include "../../agent/sync/sync_test_support.h"
#include "ward/agent/store/event_store.h"
#include "ward/common/log.h"
#include "ward/common/random.h"
#include "ward/common/uuid.h"
#include "ward/platform/fake_key_provider.h"

namespace {

using namespace ward;
using namespace ward::agent;

double Run(const std::vector<std::string>& collector_flags, std::size_t events, std::size_t batch) {
  sync::testing::ScratchDir dir;
  auto key = policy::SigningKey::Generate();
  sync::testing::CollectorProcess collector(dir.path() / "collector",
                                            sync::testing::PublicKeyHex(*key));
  collector.Start(collector_flags);
  platform::FakeKeyProvider keys;
  store::StoreOptions options;
  options.path = dir.path() / "events.db";
  auto s = store::EventStore::Open(options, keys);
  if (!s.has_value()) {
    std::fprintf(stderr, "store: %s\n", s.error().ToString().c_str());
    return 0;
  }
  SeededRandom random(1);
  UuidV7Generator ids(SystemClock(), random);
  for (std::size_t i = 0; i < events; ++i) {
    v1::Event e;
    e.set_id(ids.Next().ToString());
    e.set_priority(v1::PRIORITY_NORMAL);
    e.mutable_usb()->mutable_device()->set_device_id("1234:5678");
    e.mutable_usb()->mutable_device()->set_serial("serial-" + std::to_string(i));
    (void)(*s)->Append(e);
  }
  (void)(*s)->Flush();
  sync::HttpsTransportOptions to;
  to.url = collector.url();
  to.ca_file = collector.ca_file();
  auto transport = sync::CreateHttpsTransport(to);
  sync::testing::MemoryPolicySink sink;
  sync::SyncEngine engine(sync::testing::TestSyncOptions(collector.secret(), batch),
                          key->public_key(), **transport, **s, sink);
  const auto start = std::chrono::steady_clock::now();
  engine.Start();
  const bool done = sync::testing::WaitUntil(
      [&] {
        auto st = (*s)->GetStatus();
        std::uint64_t left = 0;
        for (const auto& [p, n] : st->events_by_priority()) {
          left += n;
        }
        return left == 0;
      },
      std::chrono::minutes(10), std::chrono::milliseconds(5));
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  engine.Stop();
  if (!done) {
    std::fprintf(stderr, "did not finish\n");
    return 0;
  }
  return static_cast<double>(events) / seconds;
}

}  // namespace

int main(int argc, char** argv) {
  ward::log::SetMinLevel(ward::log::Level::kWarning);
  const std::size_t events = argc > 1 ? std::stoul(argv[1]) : 50'000;
  const std::size_t batch = argc > 2 ? std::stoul(argv[2]) : 500;
  const double limited = Run({}, events, batch);
  const double open = Run({"--rate", "100000", "--burst", "100000"}, events, batch);
  std::printf("events=%zu batch=%zu\n", events, batch);
  std::printf("default rate limit (5 req/s, burst 30): %.0f events/s\n", limited);
  std::printf("rate limit lifted:                      %.0f events/s\n", open);
  std::printf("ratio lifted/default: %.2f\n", limited > 0 ? open / limited : 0.0);
  return limited > 0 && open > 0 ? 0 : 1;
}
