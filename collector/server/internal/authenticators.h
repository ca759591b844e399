// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <optional>
#include <string>

#include "internal/router.h"
#include "ward/collector/storage/storage.h"

namespace ward::collector::internal {

// The token of an `Authorization: Bearer <token>` header, or "" when there is none.
std::string BearerToken(const HttpRequest& request);

// Staff who send `Authorization: Bearer wst_...` (wardctl): the token's SHA-256 is looked up in
// the store. A request without a bearer header is not this authenticator's (nullopt).
// Thread-safe.
class BearerStaffAuthenticator final : public StaffAuthenticator {
 public:
  explicit BearerStaffAuthenticator(Storage& storage) : storage_(storage) {}
  Result<std::optional<StaffPrincipal>> Authenticate(const HttpRequest& request) override;

 private:
  Storage& storage_;
};

// Devices send `Authorization: Bearer <device_id>.<credential>`: the credential's SHA-256 must
// match the stored one (compared in constant time) and the device must not be revoked.
// Thread-safe.
class CredentialDeviceAuthenticator final : public DeviceAuthenticator {
 public:
  explicit CredentialDeviceAuthenticator(Storage& storage) : storage_(storage) {}
  Result<DevicePrincipal> Authenticate(const HttpRequest& request) override;

 private:
  Storage& storage_;
};

}  // namespace ward::collector::internal
