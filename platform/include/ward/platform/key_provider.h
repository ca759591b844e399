// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "ward/common/result.h"

namespace ward::platform {

inline constexpr std::size_t kStoreKeyBytes = 32;

// The raw 256-bit key of the agent's encrypted event store, with how it was obtained.
struct StoreKey {
  std::array<std::uint8_t, kStoreKeyBytes> bytes{};
  // The key did not exist and was generated now (from OpenSSL's CSPRNG).
  bool newly_created = false;
  // A key was expected (a store that needs it exists) but was missing, so a new one was made:
  // the old store cannot be read any more and the store records a tamper event.
  bool previous_key_missing = false;
  // Where it came from, for logs and status: "systemd-credential", "key-file" (Linux),
  // "dpapi-key-file" (Windows), "fake", ...
  std::string source;
};

// Holds the store key in the operating system's care. Implementations are thread-compatible:
// the agent calls GetOrCreateStoreKey() once at start-up.
class KeyProvider {
 public:
  virtual ~KeyProvider() = default;
  // Returns the existing key, or creates, persists and returns a new one.
  // Errors: kPermissionDenied (key file or its directory has an unsafe mode, access list or
  // owner), kDataLoss (a key exists but has the wrong length, or, on Windows, DPAPI cannot
  // decrypt it), kUnavailable/kResourceExhausted/...
  // (I/O at the OS seam), kInternal (the random generator failed).
  virtual Result<StoreKey> GetOrCreateStoreKey() = 0;
};

struct KeyProviderOptions {
  // Directory that holds the key file, created by CreatePrivateDirectory() if absent. Linux: must
  // be owned by the effective user and not accessible by group or others. Windows: owned by
  // SYSTEM, the Administrators or this process's user, and its access list grants nobody else.
  std::filesystem::path state_dir;
  std::string key_file_name = "store.key";
  // Linux only: systemd credential name: when $CREDENTIALS_DIRECTORY/<name> exists it is used
  // read-only (the unit passes it with LoadCredentialEncrypted=). 32 raw bytes or 64 hex digits.
  std::string credential_name = "ward-store-key";
  // Overrides $CREDENTIALS_DIRECTORY (tests). Empty: read the environment.
  std::optional<std::filesystem::path> credentials_directory;
  // When this path exists but no key does, StoreKey::previous_key_missing is set (the agent
  // passes the store's database file).
  std::filesystem::path key_expected_if_exists;
};

// The platform's key provider. Linux: systemd credential, else a root-only key file. Windows: a
// key file holding the key encrypted with DPAPI in machine scope, private to SYSTEM and the
// Administrators (docs/store.md).
std::unique_ptr<KeyProvider> CreateKeyProvider(const KeyProviderOptions& options);

// Creates `dir` (and any missing parents) so that only the agent's account can reach it; an
// existing directory is left as it is (the key provider checks it). Linux: mode 0700. Windows: a
// protected access list (not inherited from the parent) giving SYSTEM and the Administrators
// full control, which the files created in it inherit.
Status CreatePrivateDirectory(const std::filesystem::path& dir);

}  // namespace ward::platform
