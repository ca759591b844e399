// SPDX-License-Identifier: Apache-2.0
// Private to ward::platform: what every OS's key provider does the same way.
#pragma once

#include <string>

#include "ward/platform/key_provider.h"

namespace ward::platform::internal {

// A new random key from OpenSSL's CSPRNG, marked newly created, and previous_key_missing when
// `options.key_expected_if_exists` exists (a store that needed the old key is there).
// Errors: kInternal (the random generator failed).
Result<StoreKey> NewStoreKey(const KeyProviderOptions& options, std::string source);

}  // namespace ward::platform::internal
