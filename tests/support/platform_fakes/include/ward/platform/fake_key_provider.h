// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <mutex>
#include <optional>

#include "ward/platform/key_provider.h"

namespace ward::platform {

// In-memory KeyProvider for tests. Thread-safe.
class FakeKeyProvider final : public KeyProvider {
 public:
  // Starts without a key: the first call creates one (newly_created = true).
  FakeKeyProvider() = default;
  // Starts with `key` already present.
  explicit FakeKeyProvider(const std::array<std::uint8_t, kStoreKeyBytes>& key);

  Result<StoreKey> GetOrCreateStoreKey() override;

  // Forgets the key; the next call creates a new one with previous_key_missing = true.
  void LoseKey();
  // Replaces the key (the store will find it is the wrong one).
  void SetKey(const std::array<std::uint8_t, kStoreKeyBytes>& key);
  // Makes every later call fail with `error` (nullopt: succeed again).
  void FailWith(std::optional<Error> error);
  int calls() const;

 private:
  mutable std::mutex mu_;
  std::optional<std::array<std::uint8_t, kStoreKeyBytes>> key_;  // guarded by mu_
  bool lost_ = false;                                            // guarded by mu_
  std::optional<Error> fail_;                                    // guarded by mu_
  int calls_ = 0;                                                // guarded by mu_
};

}  // namespace ward::platform
