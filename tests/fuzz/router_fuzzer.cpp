// SPDX-License-Identifier: Apache-2.0
// The collector's router over its real role table, with untrusted methods, paths and bodies.
// Property: a handler only ever runs for a caller whose role its row admits, for a path its
// pattern matches; everything else is answered 401, 403, 404, 405 or 413 by the router.
//
// Input: byte 0 picks the caller (none, device, it, dsl, viewer, metrics), byte 1 the method,
// byte 2 the body size (0-255), the rest is the path.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "internal/access.h"
#include "internal/router.h"

namespace {

using namespace ward::collector;
using namespace ward::collector::internal;

constexpr const char* kMethods[] = {"GET", "POST", "PUT", "DELETE", "HEAD", "get", ""};

class HeaderStaff final : public StaffAuthenticator {
 public:
  ward::Result<std::optional<StaffPrincipal>> Authenticate(const HttpRequest& r) override {
    const std::string& role = r.Header("x-role");
    if (role.empty() || role == "device") {
      return std::optional<StaffPrincipal>();
    }
    auto parsed = ParseStaffRole(role);
    if (!parsed.has_value()) {
      return ward::UnauthenticatedError("no");
    }
    return std::optional<StaffPrincipal>(StaffPrincipal{*parsed, "fuzz"});
  }
};

class HeaderDevice final : public DeviceAuthenticator {
 public:
  ward::Result<DevicePrincipal> Authenticate(const HttpRequest& r) override {
    if (r.Header("x-role") != "device") {
      return ward::UnauthenticatedError("no");
    }
    return DevicePrincipal{};
  }
};

// The pattern of the route that ran, so the check below can look up its row.
HttpResponse Ran(const std::string& pattern) {
  HttpResponse r;
  r.body = pattern;
  return r;
}

Router& TheRouter() {
  static HeaderDevice device;
  static Router* router = [] {
    auto* r = new Router(AccessTable(), &device);
    r->AddStaffAuthenticator(std::make_unique<HeaderStaff>());
    for (const AccessRule& a : AccessTable()) {
      Route route;
      route.method = std::string(a.method);
      route.pattern = std::string(a.pattern);
      route.max_body_bytes = 64;
      const std::string p = route.pattern;
      if (a.roles.Has(Role::kPublic)) {
        route.handler = PublicHandler([p](const Call&) { return HandlerResult(Ran(p)); });
      } else if (a.roles.Has(Role::kDevice)) {
        route.handler = DeviceHandler(
            [p](const Call&, const DevicePrincipal&) { return HandlerResult(Ran(p)); });
      } else {
        route.handler =
            StaffHandler([p](const Call&, const StaffPrincipal&) { return HandlerResult(Ran(p)); });
      }
      if (!r->Add(std::move(route)).has_value()) {
        std::abort();
      }
    }
    if (!r->CheckComplete().has_value()) {
      std::abort();
    }
    return r;
  }();
  return *router;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 3) {
    return 0;
  }
  static constexpr const char* kCallers[] = {"", "device", "it", "dsl", "viewer", "metrics"};
  const std::string caller = kCallers[data[0] % 6];
  HttpRequest request;
  request.method = kMethods[data[1] % 7];
  request.body.assign(data[2], 'x');
  request.path.assign(reinterpret_cast<const char*>(data + 3), size - 3);
  if (!caller.empty()) {
    request.headers["x-role"] = caller;
  }
  const HandlerResult result = TheRouter().Dispatch(request);
  const auto* response = std::get_if<HttpResponse>(&result);
  if (response == nullptr || response->status != 200) {
    return 0;  // the router answered: nothing ran
  }
  // A handler ran: its row must admit this caller, with this method, for this path.
  for (const AccessRule& a : AccessTable()) {
    if (a.pattern != response->body) {
      continue;
    }
    auto pattern = RoutePattern::Parse(a.pattern);
    const bool admitted =
        a.roles.Has(Role::kPublic) || (!caller.empty() && a.roles.Has(*ParseRole(caller)));
    if (a.method == request.method && pattern.has_value() &&
        pattern->Match(request.path, nullptr) && admitted && request.body.size() <= 64) {
      return 0;
    }
  }
  std::abort();
}
