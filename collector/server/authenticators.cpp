// SPDX-License-Identifier: Apache-2.0
#include "internal/authenticators.h"

#include <string_view>

#include "ward/collector/storage/secrets.h"

namespace ward::collector::internal {

std::string BearerToken(const HttpRequest& request) {
  const std::string& auth = request.Header("authorization");
  constexpr std::string_view kBearer = "Bearer ";
  if (!auth.starts_with(kBearer)) {
    return {};
  }
  return auth.substr(kBearer.size());
}

Result<std::optional<StaffPrincipal>> BearerStaffAuthenticator::Authenticate(
    const HttpRequest& request) {
  const std::string token = BearerToken(request);
  if (token.empty()) {
    return std::optional<StaffPrincipal>();
  }
  WARD_ASSIGN_OR_RETURN(StaffIdentity who, storage_.FindStaffByTokenHash(HashSecret(token)));
  return std::optional<StaffPrincipal>(StaffPrincipal{who.role, std::move(who.name)});
}

Result<DevicePrincipal> CredentialDeviceAuthenticator::Authenticate(const HttpRequest& request) {
  const std::string token = BearerToken(request);
  const std::size_t dot = token.find('.');
  if (dot == std::string::npos) {
    return UnauthenticatedError("send Authorization: Bearer <device_id>.<credential>");
  }
  auto device = storage_.GetDevice(token.substr(0, dot));
  if (!device.has_value()) {
    if (device.error().code() == ErrorCode::kNotFound) {
      return UnauthenticatedError("unknown device; enrol again");
    }
    return std::unexpected(device.error());
  }
  if (!ConstantTimeEquals(HashSecret(token.substr(dot + 1)), device->credential_hash)) {
    return UnauthenticatedError("wrong device credential; enrol again");
  }
  if (device->revoked) {
    return UnauthenticatedError("this device has been revoked");
  }
  return DevicePrincipal{std::move(*device)};
}

}  // namespace ward::collector::internal
