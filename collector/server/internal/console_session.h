// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "internal/router.h"
#include "ward/collector/storage/storage.h"
#include "ward/common/clock.h"

namespace ward::collector::internal {

// The console's session cookie. "__Host-" makes the browser insist on Secure, Path=/ and no
// Domain, so no other host can set or read it.
inline constexpr std::string_view kSessionCookie = "__Host-ward_session";
// State-changing requests of a console session carry the session's CSRF token here.
inline constexpr std::string_view kCsrfHeader = "x-ward-csrf";
// "1" on requests the page makes by itself (the inbox's long-poll and refreshes): they do not
// count as activity, so an open but unattended console still ends after the idle timeout.
inline constexpr std::string_view kBackgroundHeader = "x-ward-background";

// The session id in the request's Cookie header, or "".
std::string SessionIdFrom(const HttpRequest& request);
// The CSRF token that goes with a session id: hex SHA-256 of "csrf:" + id. It is derived, not
// stored, and tells nothing about the id (nor about the id's stored hash).
std::string CsrfTokenFor(std::string_view session_id);
// True for the methods that change nothing (GET, HEAD).
bool IsSafeMethod(std::string_view method);
// False when the request says it comes from a page of another origin (an Origin header other
// than https://<Host>). Requests without Origin (wardctl, curl) pass.
bool SameOrigin(const HttpRequest& request);

// Staff who signed in to the console: the session cookie is looked up in the store (by hash),
// which also ends it when idle, too old, signed out or its staff token revoked (401). A
// state-changing request must also carry the session's CSRF token and come from the console's
// own origin (403 otherwise). A request without the cookie is not this authenticator's
// (nullopt). Thread-safe.
class SessionStaffAuthenticator final : public StaffAuthenticator {
 public:
  // `storage` and `clock` must outlive the authenticator.
  SessionStaffAuthenticator(Storage& storage, SessionLimits limits, const Clock& clock)
      : storage_(storage), limits_(limits), clock_(clock) {}
  Result<std::optional<StaffPrincipal>> Authenticate(const HttpRequest& request) override;

 private:
  Storage& storage_;
  const SessionLimits limits_;
  const Clock& clock_;
};

}  // namespace ward::collector::internal
