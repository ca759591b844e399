// SPDX-License-Identifier: Apache-2.0
#include "ward/platform/fake_key_provider.h"

#include <openssl/rand.h>

namespace ward::platform {

FakeKeyProvider::FakeKeyProvider(const std::array<std::uint8_t, kStoreKeyBytes>& key) : key_(key) {}

Result<StoreKey> FakeKeyProvider::GetOrCreateStoreKey() {
  std::scoped_lock lock(mu_);
  ++calls_;
  if (fail_) {
    return std::unexpected(*fail_);
  }
  StoreKey out;
  out.source = "fake";
  if (!key_) {
    std::array<std::uint8_t, kStoreKeyBytes> fresh{};
    if (RAND_bytes(fresh.data(), static_cast<int>(fresh.size())) != 1) {
      return InternalError("fake key provider: RAND_bytes failed");
    }
    key_ = fresh;
    out.newly_created = true;
    out.previous_key_missing = lost_;
    lost_ = false;
  }
  out.bytes = *key_;
  return out;
}

void FakeKeyProvider::LoseKey() {
  std::scoped_lock lock(mu_);
  key_.reset();
  lost_ = true;
}

void FakeKeyProvider::SetKey(const std::array<std::uint8_t, kStoreKeyBytes>& key) {
  std::scoped_lock lock(mu_);
  key_ = key;
}

void FakeKeyProvider::FailWith(std::optional<Error> error) {
  std::scoped_lock lock(mu_);
  fail_ = std::move(error);
}

int FakeKeyProvider::calls() const {
  std::scoped_lock lock(mu_);
  return calls_;
}

}  // namespace ward::platform
