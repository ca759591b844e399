// SPDX-License-Identifier: Apache-2.0
// Event store throughput (200-byte events, group commit) and CRITICAL append latency.
// Prints key=value lines; tests/bench/store_vs_sqlite.sh compares it with store_bench_sqlite.
//   store_bench [--events N] [--critical N] [--dir DIR]
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <future>
#include <vector>

#include "bench_util.h"
#include "ward/agent/store/event_store.h"
#include "ward/platform/fake_key_provider.h"

namespace {

using namespace ward;
using Clock = std::chrono::steady_clock;

// An event whose serialised form is exactly `bytes` long.
v1::Event MakeEvent(std::uint64_t n, std::size_t bytes) {
  v1::Event event;
  event.set_id(bench::BenchId(n));
  event.set_priority(n % 3 == 0 ? v1::PRIORITY_LOW : v1::PRIORITY_NORMAL);
  event.mutable_device_time()->set_seconds(1'700'000'000 + static_cast<std::int64_t>(n));
  event.mutable_exec()->set_path("/usr/bin/x");
  std::size_t size = event.ByteSizeLong();
  if (size < bytes) {
    event.mutable_exec()->set_path("/usr/bin/" + std::string(bytes - size + 1, 'x'));
  }
  return event;
}

int Run(int argc, char** argv) {
  std::uint64_t events = bench::ArgOr(argc, argv, "--events", 300000);
  std::uint64_t criticals = bench::ArgOr(argc, argv, "--critical", 300);
  std::filesystem::path dir = bench::ScratchDir(bench::StrArgOr(argc, argv, "--dir", ""));
  std::array<std::uint8_t, platform::kStoreKeyBytes> key{};
  key.fill(0x42);
  platform::FakeKeyProvider keys(key);
  agent::store::StoreOptions options;
  options.path = dir / "events.db";
  options.limits.set_max_bytes(8ull << 30);  // measure appends, not eviction
  options.max_queued_events = events + 1;    // measure commits, not queue back-pressure

  std::vector<v1::Event> batch;
  batch.reserve(events);
  for (std::uint64_t i = 0; i < events; ++i) {
    batch.push_back(MakeEvent(i, 200));
  }
  std::printf("event_bytes=%zu\n", batch[0].ByteSizeLong());
  {
    auto store = agent::store::EventStore::Open(options, keys);
    if (!store) {
      std::fprintf(stderr, "store_bench: %s\n", store.error().ToString().c_str());
      return 1;
    }
    auto start = Clock::now();
    for (const auto& e : batch) {
      if (auto s = (*store)->Append(e); !s) {
        std::fprintf(stderr, "store_bench: append: %s\n", s.error().ToString().c_str());
        return 1;
      }
    }
    if (auto s = (*store)->Flush(); !s) {
      std::fprintf(stderr, "store_bench: flush: %s\n", s.error().ToString().c_str());
      return 1;
    }
    double secs = std::chrono::duration<double>(Clock::now() - start).count();
    std::printf("store_events=%llu\nstore_seconds=%.3f\nstore_events_per_second=%.0f\n",
                static_cast<unsigned long long>(events), secs, static_cast<double>(events) / secs);

    std::vector<double> latencies_ms;
    for (std::uint64_t i = 0; i < criticals; ++i) {
      v1::Event e = MakeEvent(events + i, 200);
      e.set_priority(v1::PRIORITY_CRITICAL);
      auto t0 = Clock::now();
      if (auto s = (*store)->Append(e); !s) {
        std::fprintf(stderr, "store_bench: critical: %s\n", s.error().ToString().c_str());
        return 1;
      }
      latencies_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
    }
    std::printf("critical_appends=%llu\ncritical_p50_ms=%.3f\ncritical_p99_ms=%.3f\n",
                static_cast<unsigned long long>(criticals), bench::Percentile(latencies_ms, 0.50),
                bench::Percentile(latencies_ms, 0.99));
  }
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  return 0;
}

}  // namespace

int main(int argc, char** argv) { return Run(argc, argv); }
