// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "internal/http_server.h"
#include "internal/responses.h"
#include "ward/collector/storage/storage.h"
#include "ward/common/result.h"

namespace ward::collector::internal {

// Who may call a route. `kPublic` admits anyone without a credential; `kDevice` an enrolled,
// unrevoked device; the others are staff roles (StaffRole).
enum class Role : std::uint8_t { kPublic, kDevice, kIt, kDsl, kViewer, kMetrics };
inline constexpr Role kAllRoles[] = {Role::kPublic, Role::kDevice, Role::kIt,
                                     Role::kDsl,    Role::kViewer, Role::kMetrics};

// The names docs/collector.md uses: "public", "device", "it", "dsl", "viewer", "metrics".
std::string_view RoleName(Role role);
std::optional<Role> ParseRole(std::string_view name);
Role RoleOf(StaffRole role);

// A set of roles. Value type.
class RoleSet {
 public:
  constexpr RoleSet() = default;
  constexpr RoleSet(std::initializer_list<Role> roles) {
    for (const Role r : roles) {
      bits_ |= Bit(r);
    }
  }
  constexpr bool Has(Role r) const { return (bits_ & Bit(r)) != 0; }
  constexpr bool empty() const { return bits_ == 0; }
  constexpr void Add(Role r) { bits_ |= Bit(r); }
  // True when any staff role is in the set.
  bool HasStaff() const;
  // "it, dsl" in kAllRoles order.
  std::string ToString() const;
  friend constexpr bool operator==(RoleSet, RoleSet) = default;

 private:
  static constexpr std::uint32_t Bit(Role r) { return 1U << static_cast<unsigned>(r); }
  std::uint32_t bits_ = 0;
};

// One row of the role table: who may call `method pattern`.
struct AccessRule {
  std::string_view method;
  std::string_view pattern;
  RoleSet roles;
};

// A staff member, however they proved it (a bearer token today, a console session later).
struct StaffPrincipal {
  StaffRole role = StaffRole::kViewer;
  std::string name;  // the token's name: what the audit log records
};

struct DevicePrincipal {
  DeviceRecord device;
};

// One way for staff to prove who they are. Implementations must be thread-safe.
class StaffAuthenticator {
 public:
  virtual ~StaffAuthenticator() = default;
  // nullopt when the request carries no credential of this kind (the next authenticator is
  // asked); kUnauthenticated for a credential that is wrong, expired or revoked;
  // kPermissionDenied for one that is valid but may not be used for this request (a session
  // without its CSRF token on a state-changing method, say). Other errors are store failures.
  virtual Result<std::optional<StaffPrincipal>> Authenticate(const HttpRequest& request) = 0;
};

// Checks a device's credential. Thread-safe.
class DeviceAuthenticator {
 public:
  virtual ~DeviceAuthenticator() = default;
  // kUnauthenticated (with a reason the agent can act on) or a store error.
  virtual Result<DevicePrincipal> Authenticate(const HttpRequest& request) = 0;
};

// The values of a matched path's {name:type} segments, already checked against their type.
class PathParams {
 public:
  // The text of parameter `name`. The name must be one of the route's (a programming error
  // otherwise: checked).
  const std::string& Get(std::string_view name) const;
  // An {name:int} parameter as a number.
  std::int64_t Int(std::string_view name) const;
  void Set(std::string name, std::string value) {
    values_.emplace_back(std::move(name), std::move(value));
  }

 private:
  std::vector<std::pair<std::string, std::string>> values_;
};

// What a handler is called with.
struct Call {
  const HttpRequest& request;
  const PathParams& params;
};

using PublicHandler = std::function<HandlerResult(const Call&)>;
using DeviceHandler = std::function<HandlerResult(const Call&, const DevicePrincipal&)>;
using StaffHandler = std::function<HandlerResult(const Call&, const StaffPrincipal&)>;

// A route as a unit declares it. Its roles come from the role table, not from here.
//
// `pattern` is a path of literal segments and typed parameters: {name:uuid} (canonical
// 8-4-4-4-12 hex), {name:int} (decimal digits), {name:segment} (any non-empty segment), and, as
// the last segment only, {name:path} (one or more segments, none empty, "." or "..").
struct Route {
  std::string method;
  std::string pattern;
  // Larger bodies get 413 before the handler runs. The server's max_body_bytes still caps
  // what is read at all.
  std::size_t max_body_bytes = 0;
  ErrorStyle errors = ErrorStyle::kJson;
  std::variant<PublicHandler, DeviceHandler, StaffHandler> handler;
};

// A parsed route pattern. Value type.
class RoutePattern {
 public:
  // kInvalidArgument for a malformed pattern (no leading '/', an unknown type, a {path} that is
  // not last, two parameters with one name).
  static Result<RoutePattern> Parse(std::string_view pattern);
  // True when `path` matches; the parameters go to `params` (may be null).
  bool Match(std::string_view path, PathParams* params) const;
  const std::string& text() const { return text_; }

 private:
  enum class Kind : std::uint8_t { kLiteral, kUuid, kInt, kSegment, kPath };
  struct Segment {
    Kind kind = Kind::kLiteral;
    std::string text;  // the literal, or the parameter's name
  };
  std::string text_;
  std::vector<Segment> segments_;
};

// Declared routes behind one dispatch: match the path (404, or 405 with Allow), authenticate
// as the route's roles require (401), check the role against the role table (403) and the body
// against the route's limit (413), then call the handler; exceptions become 500. Set up on one
// thread (Add..., CheckComplete), then Dispatch is thread-safe.
class Router {
 public:
  // `access` is the role table; `device` checks device credentials (may be null when no route
  // admits devices). Both must outlive the router.
  Router(std::span<const AccessRule> access, DeviceAuthenticator* device);
  ~Router();
  Router(const Router&) = delete;
  Router& operator=(const Router&) = delete;

  // Staff authenticators are asked in the order they were added; the first that recognises a
  // credential decides.
  void AddStaffAuthenticator(std::unique_ptr<StaffAuthenticator> authenticator);
  // kInvalidArgument for a malformed pattern, a route the role table does not list, a handler
  // that does not fit the route's roles (a StaffHandler for staff roles, a DeviceHandler for
  // `device`, a PublicHandler for `public`), or a route added twice.
  Status Add(Route route);
  // How errors are written for paths no route matches, by longest prefix (kProtobuf when none).
  void SetErrorStyle(std::string prefix, ErrorStyle style);
  // kFailedPrecondition naming every row of the role table that has no route.
  Status CheckComplete() const;
  // Called after each answer with the route's pattern ("other" when none matched) and the
  // status (0 for a parked long-poll). Set before the first Dispatch.
  void SetObserver(std::function<void(std::string_view endpoint, int status)> observer);

  HandlerResult Dispatch(const HttpRequest& request) const;

  struct RouteInfo {
    std::string method;
    std::string pattern;
    RoleSet roles;
    std::size_t max_body_bytes = 0;
  };
  std::vector<RouteInfo> Routes() const;

 private:
  struct Entry;
  HandlerResult Run(const Entry& entry, const HttpRequest& request, const PathParams& params) const;
  Result<StaffPrincipal> AuthenticateStaff(const HttpRequest& request) const;
  ErrorStyle StyleFor(std::string_view path) const;

  std::span<const AccessRule> access_;
  DeviceAuthenticator* device_;
  std::vector<std::unique_ptr<StaffAuthenticator>> staff_;
  std::vector<Entry> routes_;
  std::vector<std::pair<std::string, ErrorStyle>> styles_;
  std::function<void(std::string_view, int)> observer_;
};

}  // namespace ward::collector::internal
