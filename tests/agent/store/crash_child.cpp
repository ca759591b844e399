// SPDX-License-Identifier: Apache-2.0
// Helper for the crash test: appends events with mixed priorities at full speed and writes the
// id of every append whose durability was confirmed (CRITICAL: Append returned OK; telemetry:
// its receipt resolved OK) to stdout, one per line, until it is killed.
//   ward_store_crash_child <store dir> <64 hex digit key> <seed>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <future>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "ward/agent/store/event_store.h"
#include "ward/common/hex.h"
#include "ward/common/random.h"
#include "ward/common/uuid.h"
#include "ward/platform/fake_key_provider.h"

namespace {

using namespace ward;

// Writes whole lines under a lock, so two threads never interleave within a line; a kill
// mid-write leaves at most a torn last line, which the parent ignores.
std::mutex report_mu;

bool Report(const std::string& lines) {
  std::scoped_lock lock(report_mu);
  std::size_t done = 0;
  while (done < lines.size()) {
    ssize_t n = ::write(STDOUT_FILENO, lines.data() + done, lines.size() - done);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      return false;
    }
    done += static_cast<std::size_t>(n);
  }
  return true;
}

int Run(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: ward_store_crash_child <dir> <hex key> <seed>\n");
    return 2;
  }
  auto key_bytes = HexDecode(argv[2]);
  if (!key_bytes || key_bytes->size() != platform::kStoreKeyBytes) {
    std::fprintf(stderr, "crash child: bad key\n");
    return 2;
  }
  std::array<std::uint8_t, platform::kStoreKeyBytes> key{};
  std::copy(key_bytes->begin(), key_bytes->end(), key.begin());
  platform::FakeKeyProvider keys(key);
  agent::store::StoreOptions options;
  options.path = std::filesystem::path(argv[1]) / "events.db";
  auto store = agent::store::EventStore::Open(options, keys);
  if (!store) {
    std::fprintf(stderr, "crash child: open: %s\n", store.error().ToString().c_str());
    return 3;
  }
  // CRITICAL appends (each waits for a FULL-sync commit) run on their own thread, so the
  // telemetry below keeps the writer busy at full speed meanwhile.
  std::atomic<bool> failed{false};
  std::thread critical([&] {
    SeededRandom random(std::strtoull(argv[3], nullptr, 10) ^ 0x5eed);
    UuidV7Generator ids(SystemClock(), random);
    while (!failed) {
      v1::Event event;
      event.set_id(ids.Next().ToString());
      event.set_priority(v1::PRIORITY_CRITICAL);
      event.mutable_concern()->set_text("crash test concern");
      if (auto s = (*store)->Append(event); !s) {
        std::fprintf(stderr, "crash child: critical append: %s\n", s.error().ToString().c_str());
        failed = true;
      } else if (!Report(event.id() + "\n")) {
        failed = true;
      }
    }
  });
  SeededRandom random(std::strtoull(argv[3], nullptr, 10));
  UuidV7Generator ids(SystemClock(), random);
  std::vector<std::pair<std::string, std::future<Status>>> window;
  std::string lines;
  while (!failed) {
    for (int i = 0; i < 256; ++i) {
      v1::Event event;
      event.set_id(ids.Next().ToString());
      std::uint64_t r = random.NextU64();
      event.set_priority(static_cast<v1::Priority>(1 + r % 3));
      event.mutable_exec()->set_path("/usr/bin/tool-" + std::to_string(r % 1000));
      window.emplace_back(event.id(), (*store)->AppendWithReceipt(event));
    }
    lines.clear();
    for (auto& [id, receipt] : window) {
      auto s = receipt.get();
      if (!s) {
        std::fprintf(stderr, "crash child: append: %s\n", s.error().ToString().c_str());
        failed = true;
        break;
      }
      lines += id;
      lines += '\n';
    }
    window.clear();
    if (!failed && !Report(lines)) {
      failed = true;
    }
  }
  critical.join();
  return 4;
}

}  // namespace

int main(int argc, char** argv) { return Run(argc, argv); }
