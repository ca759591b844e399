// SPDX-License-Identifier: Apache-2.0
// A sync engine in its own process, for the test that SIGKILLs the agent during upload:
//
//   ward_sync_agent_child STORE KEY_HEX URL CA SECRET POLICY_KEY_HEX BATCH
//
// Opens the store and uploads until the store is empty (exit 0), SIGTERM, or SIGKILL.
#include <signal.h>

#include <array>
#include <iostream>

#include "sync_test_agent.h"
#include "ward/agent/store/event_store.h"
#include "ward/common/hex.h"
#include "ward/platform/fake_key_provider.h"

int main(int argc, char** argv) {
  using namespace ward;
  if (argc != 8) {
    std::cerr << "usage: ward_sync_agent_child STORE KEY_HEX URL CA SECRET POLICY_KEY_HEX BATCH\n";
    return 2;
  }
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);
  auto key_bytes = HexDecode(argv[2]);
  auto policy_raw = HexDecode(argv[6]);
  if (!key_bytes.has_value() || key_bytes->size() != 32 || !policy_raw.has_value() ||
      policy_raw->size() != 32) {
    std::cerr << "bad key\n";
    return 2;
  }
  std::array<std::uint8_t, 32> key{};
  std::copy(key_bytes->begin(), key_bytes->end(), key.begin());
  std::array<std::uint8_t, 32> raw{};
  std::copy(policy_raw->begin(), policy_raw->end(), raw.begin());
  auto policy_key = policy::PublicKey::FromRaw(raw);
  platform::FakeKeyProvider keys(key);
  agent::store::StoreOptions store_options;
  store_options.path = argv[1];
  auto store = agent::store::EventStore::Open(store_options, keys);
  agent::sync::HttpsTransportOptions transport_options;
  transport_options.url = argv[3];
  transport_options.ca_file = argv[4];
  auto transport = agent::sync::CreateHttpsTransport(transport_options);
  if (!store.has_value() || !transport.has_value() || !policy_key.has_value()) {
    std::cerr << "cannot start\n";
    return 2;
  }
  agent::sync::testing::MemoryPolicySink sink;
  agent::sync::SyncEngine engine(
      agent::sync::testing::TestSyncOptions(argv[5], static_cast<std::size_t>(std::stoul(argv[7]))),
      *policy_key, **transport, **store, sink);
  engine.Start();
  const timespec poll{0, 200'000'000};
  for (;;) {
    if (sigtimedwait(&stop, nullptr, &poll) == SIGTERM) {
      break;
    }
    auto status = (*store)->GetStatus();
    if (!status.has_value()) {
      continue;
    }
    std::uint64_t left = 0;
    for (const auto& [priority, n] : status->events_by_priority()) {
      left += n;
    }
    if (left == 0) {
      break;
    }
  }
  engine.Stop();
  return 0;
}
