// SPDX-License-Identifier: Apache-2.0
#include "internal/store_key.h"

#include <openssl/rand.h>

#include <system_error>

namespace ward::platform::internal {

Result<StoreKey> NewStoreKey(const KeyProviderOptions& options, std::string source) {
  StoreKey key;
  if (RAND_bytes(key.bytes.data(), static_cast<int>(key.bytes.size())) != 1) {
    return InternalError("generating the store key: RAND_bytes failed");
  }
  key.newly_created = true;
  key.source = std::move(source);
  std::error_code ec;
  key.previous_key_missing = !options.key_expected_if_exists.empty() &&
                             std::filesystem::exists(options.key_expected_if_exists, ec);
  return key;
}

}  // namespace ward::platform::internal
