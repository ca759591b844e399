// SPDX-License-Identifier: Apache-2.0
// Helpers shared by the event store's tests: temporary directories, events, fixed keys.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>
#include <system_error>

#include <gtest/gtest.h>

#include "ward/agent/store/event_store.h"
#include "ward/common/hex.h"
#include "ward/common/random.h"
#include "ward/common/uuid.h"
#include "ward/platform/fake_key_provider.h"
#include "ward/testing/temp_dir.h"

namespace ward::agent::store::testing {

using ::ward::testing::TempDir;

inline std::array<std::uint8_t, platform::kStoreKeyBytes> FixedKey(std::uint8_t seed = 7) {
  std::array<std::uint8_t, platform::kStoreKeyBytes> key{};
  for (std::size_t i = 0; i < key.size(); ++i) {
    key[i] = static_cast<std::uint8_t>(seed * 31 + i);
  }
  return key;
}

// The SQL that unlocks a store keyed with FixedKey(seed).
inline std::string KeyPragma(std::uint8_t seed = 7) {
  return "PRAGMA key = \"x'" + HexEncode(FixedKey(seed)) + "'\";";
}

// An event with a fresh UUIDv7 and a body of about `body_bytes` bytes.
inline v1::Event MakeEvent(v1::Priority priority, std::size_t body_bytes = 100) {
  // SystemRandom, not SeededRandom: tests call this from several threads.
  static UuidV7Generator ids(SystemClock(), SystemRandom());
  v1::Event event;
  event.set_id(ids.Next().ToString());
  event.set_priority(priority);
  event.mutable_device_time()->set_seconds(1'700'000'000);
  if (priority == v1::PRIORITY_CRITICAL) {
    event.mutable_concern()->set_text(std::string(body_bytes, 'c'));
  } else {
    event.mutable_exec()->set_path("/usr/bin/" + std::string(body_bytes, 'x'));
  }
  return event;
}

inline StoreOptions OptionsIn(const std::filesystem::path& dir, const Clock* clock = nullptr) {
  StoreOptions options;
  options.path = dir / "events.db";
  options.clock = clock;
  return options;
}

// Text the encryption tests write into a store and then look for in its files.
inline constexpr std::string_view kPlainMarker = "WARD-PLAINTEXT-MARKER";
inline constexpr std::string_view kSecretMarker = "WARD-SECRET-MARKER";

// Writes 20 events whose text holds kPlainMarker (every other one a CRITICAL concern) and the
// state value kSecretMarker into the store at `options`, then closes it.
inline void WriteMarkedStore(const StoreOptions& options, platform::KeyProvider& keys) {
  auto store = EventStore::Open(options, keys);
  ASSERT_TRUE(store) << store.error().ToString();
  for (int i = 0; i < 20; ++i) {
    auto event = MakeEvent(i % 2 == 0 ? v1::PRIORITY_CRITICAL : v1::PRIORITY_LOW);
    if (event.has_concern()) {
      event.mutable_concern()->set_text(std::string(kPlainMarker) + " someone is bullying me");
    } else {
      event.mutable_exec()->set_path(std::string("/home/learner/") + std::string(kPlainMarker));
    }
    ASSERT_TRUE((*store)->Append(event));
  }
  ASSERT_TRUE((*store)->PutState("device.credential", kSecretMarker));
  ASSERT_TRUE((*store)->Flush());
}

inline std::string ReadAll(const std::filesystem::path& path) {
  std::ifstream f(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

// No file in `dir` holds the markers, SQLite's clear-text header or schema text.
inline void ExpectNoClearTextIn(const std::filesystem::path& dir) {
  int files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (!entry.is_regular_file()) {
      continue;
    }
    ++files;
    const std::string bytes = ReadAll(entry.path());
    EXPECT_EQ(bytes.find(kPlainMarker), std::string::npos) << entry.path();
    EXPECT_EQ(bytes.find(kSecretMarker), std::string::npos) << entry.path();
    EXPECT_EQ(bytes.find("SQLite format 3"), std::string::npos) << entry.path();
    EXPECT_EQ(bytes.find("CREATE TABLE"), std::string::npos) << entry.path();
  }
  EXPECT_GE(files, 1);
}

}  // namespace ward::agent::store::testing
