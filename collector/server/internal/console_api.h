// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <map>
#include <string>

#include "internal/http_server.h"
#include "internal/rate_limiter.h"
#include "internal/router.h"
#include "ward/collector/server/collector.h"
#include "ward/collector/storage/storage.h"
#include "ward/common/clock.h"

namespace ward::collector::internal {

// Adds what every staff API answer carries: Cache-Control: no-store (staff data never sits in
// a cache), X-Content-Type-Options: nosniff, Referrer-Policy: no-referrer and a CSP that lets a
// JSON answer run nothing.
void SecureApiResponse(HttpResponse& response);

// The staff console (docs/console.md): its pages and scripts under /console/ (files read once
// at start from the configured directory; nothing else on disk is reachable), and the session
// calls: POST /v1/staff/session exchanges a staff token for a session cookie (rate-limited per
// address), GET tells the page who is signed in and its CSRF token, POST .../end signs out.
// What a session may then call is the role table's business: sessions are checked by
// SessionStaffAuthenticator like any staff credential. Thread-safe after Load(); everything
// passed in must outlive it.
class ConsoleApi {
 public:
  ConsoleApi(const CollectorOptions& options, Storage& storage, const Clock& clock);

  // Reads the console's files when the console is on. kInvalidArgument for a directory that
  // is missing or holds no index.html.
  Status Load();
  // Adds /console, /console/, /console/{file:path} and the /v1/staff/session calls.
  Status Register(Router& router);
  // The headers of `request`'s answer: the console's Content-Security-Policy (scripts only
  // from the collector, the import map by its hash), frame-ancestors 'none', and
  // SecureApiResponse's headers on every staff answer.
  void Secure(const HttpRequest& request, HandlerResult& result) const;

 private:
  struct File {
    std::string content_type;
    std::string body;
  };

  HandlerResult Page(const Call& call);
  HandlerResult SignIn(const Call& call);
  HandlerResult WhoAmI(const Call& call, const StaffPrincipal& who);
  HandlerResult SignOut(const Call& call, const StaffPrincipal& who);
  std::int64_t NowMs() const;

  const CollectorOptions& options_;
  Storage& storage_;
  const Clock& clock_;
  RateLimiter sign_in_limiter_;
  std::map<std::string, File> files_;  // by path under /console/; fixed after Load()
  std::string csp_;
};

}  // namespace ward::collector::internal
