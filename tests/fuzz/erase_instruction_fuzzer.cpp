// SPDX-License-Identifier: Apache-2.0
// Arbitrary bytes as the collector's EventBatchAck (what a hostile or broken collector could
// send): each erase instruction it carries goes through the agent's real, encrypted event store.
// An instruction is carried out or refused with a reason; it never deletes an event of another
// account, and one that was refused is never recorded as done.
#include <unistd.h>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "ward/agent/store/event_store.h"
#include "ward/platform/key_provider.h"
#include "ward/v1/sync.pb.h"

namespace {

using ward::agent::store::EventStore;

class FixedKey final : public ward::platform::KeyProvider {
 public:
  ward::Result<ward::platform::StoreKey> GetOrCreateStoreKey() override {
    ward::platform::StoreKey key;
    key.bytes.fill(0x42);
    key.source = "fuzz";
    return key;
  }
};

// One store for the whole run, in a private temporary folder, holding one event of an account
// no instruction can name (its salt is unknown to the fuzzer, so its MAC is never matched by
// chance) and one event without an account.
struct Fixture {
  Fixture() {
    char tmpl[] = "/tmp/ward-erase-fuzz.XXXXXX";
    if (mkdtemp(tmpl) == nullptr) {
      std::abort();
    }
    dir = tmpl;
    ward::agent::store::StoreOptions options;
    options.path = dir / "events.db";
    auto opened = EventStore::Open(options, keys);
    if (!opened.has_value()) {
      std::abort();
    }
    store = std::move(*opened);
    for (const char* user : {"someone-else", ""}) {
      ward::v1::Event event;
      event.set_id(std::string("0190b6e4-7c1a-7b3e-9f00-0000000000") + (*user ? "01" : "02"));
      event.set_priority(ward::v1::PRIORITY_NORMAL);
      event.set_user(user);
      event.mutable_exec()->set_path("/usr/bin/x");
      if (!store->Append(event) || !store->Flush()) {
        std::abort();
      }
    }
  }
  ~Fixture() {
    store.reset();
    std::error_code ignored;
    std::filesystem::remove_all(dir, ignored);
  }
  FixedKey keys;
  std::filesystem::path dir;
  std::unique_ptr<EventStore> store;
};

bool Recorded(EventStore& store, const std::string& id) {
  const std::string key = std::string(ward::agent::store::kErasureStatePrefix) + id;
  auto state = store.ListState(key);
  if (!state.has_value()) {
    std::abort();
  }
  for (const auto& entry : *state) {
    if (entry.first == key) {
      return true;
    }
  }
  return false;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static Fixture fixture;
  ward::v1::EventBatchAck ack;
  if (!ack.ParseFromArray(data, static_cast<int>(size))) {
    return 0;
  }
  for (const ward::v1::EraseInstruction& instruction : ack.erase()) {
    const bool done_before = Recorded(*fixture.store, instruction.id());
    auto applied = fixture.store->ApplyErasure(instruction.id(), instruction.salt(),
                                               instruction.account_mac());
    if (!applied.has_value()) {
      if (applied.error().message().empty()) {
        std::abort();  // every refusal says why
      }
      if (Recorded(*fixture.store, instruction.id()) != done_before) {
        std::abort();  // a refused instruction is not recorded as done
      }
      continue;
    }
    if (applied->has_value() && **applied != 0) {
      std::abort();  // nothing the fuzzer can name is stored
    }
  }
  return 0;
}
