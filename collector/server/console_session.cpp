// SPDX-License-Identifier: Apache-2.0
// Console sessions: the second staff authenticator behind the router (docs/adr/0006), so every
// staff route takes a session exactly as it takes a bearer token, and no handler changes.
#include "internal/console_session.h"

#include <chrono>

#include "ward/collector/storage/secrets.h"

namespace ward::collector::internal {

std::string SessionIdFrom(const HttpRequest& request) {
  const std::string& header = request.Header("cookie");
  std::string_view rest = header;
  while (!rest.empty()) {
    const std::size_t semi = rest.find(';');
    std::string_view pair = rest.substr(0, semi);
    rest = semi == std::string_view::npos ? std::string_view() : rest.substr(semi + 1);
    while (pair.starts_with(' ')) {
      pair.remove_prefix(1);
    }
    const std::size_t eq = pair.find('=');
    if (eq != std::string_view::npos && pair.substr(0, eq) == kSessionCookie) {
      return std::string(pair.substr(eq + 1));
    }
  }
  return {};
}

std::string CsrfTokenFor(std::string_view session_id) {
  return HashSecret("csrf:" + std::string(session_id));
}

bool IsSafeMethod(std::string_view method) { return method == "GET" || method == "HEAD"; }

bool SameOrigin(const HttpRequest& request) {
  const std::string& origin = request.Header("origin");
  return origin.empty() || origin == "https://" + request.Header("host");
}

Result<std::optional<StaffPrincipal>> SessionStaffAuthenticator::Authenticate(
    const HttpRequest& request) {
  const std::string id = SessionIdFrom(request);
  if (id.empty()) {
    return std::optional<StaffPrincipal>();
  }
  const auto now =
      std::chrono::duration_cast<std::chrono::milliseconds>(clock_.Now().time_since_epoch())
          .count();
  const bool background = request.Header(std::string(kBackgroundHeader)) == "1";
  WARD_ASSIGN_OR_RETURN(StaffIdentity who,
                        storage_.ResumeConsoleSession(HashSecret(id), now, limits_, !background));
  if (!IsSafeMethod(request.method)) {
    if (!ConstantTimeEquals(request.Header(std::string(kCsrfHeader)), CsrfTokenFor(id))) {
      return PermissionDeniedError(
          "this change needs the console's CSRF token; reload the page and try again");
    }
    if (!SameOrigin(request)) {
      return PermissionDeniedError("this change came from a page that is not the console");
    }
  }
  return std::optional<StaffPrincipal>(StaffPrincipal{who.role, std::move(who.name)});
}

}  // namespace ward::collector::internal
