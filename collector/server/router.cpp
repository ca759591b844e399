// SPDX-License-Identifier: Apache-2.0
// The collector's router: declared routes, one authentication step, one role check.
#include "internal/router.h"

#include <algorithm>
#include <charconv>
#include <exception>

#include "ward/common/check.h"
#include "ward/common/log.h"
#include "ward/common/uuid.h"

namespace ward::collector::internal {
namespace {

constexpr std::string_view kStaffCredentialHint = "send Authorization: Bearer <staff token>";

bool IsDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Splits "/a/b" into {"a", "b"}; "/" into {""}.
std::vector<std::string_view> Segments(std::string_view path) {
  std::vector<std::string_view> out;
  std::size_t start = 1;
  while (true) {
    const std::size_t slash = path.find('/', start);
    out.push_back(path.substr(start, slash == std::string_view::npos ? slash : slash - start));
    if (slash == std::string_view::npos) {
      return out;
    }
    start = slash + 1;
  }
}

}  // namespace

std::string_view RoleName(Role role) {
  switch (role) {
    case Role::kPublic:
      return "public";
    case Role::kDevice:
      return "device";
    case Role::kIt:
      return "it";
    case Role::kDsl:
      return "dsl";
    case Role::kViewer:
      return "viewer";
    case Role::kMetrics:
      return "metrics";
  }
  return "unknown";
}

std::optional<Role> ParseRole(std::string_view name) {
  for (const Role r : kAllRoles) {
    if (RoleName(r) == name) {
      return r;
    }
  }
  return std::nullopt;
}

Role RoleOf(StaffRole role) {
  switch (role) {
    case StaffRole::kIt:
      return Role::kIt;
    case StaffRole::kDsl:
      return Role::kDsl;
    case StaffRole::kViewer:
      return Role::kViewer;
    case StaffRole::kMetrics:
      return Role::kMetrics;
  }
  WARD_CHECK(false && "unknown staff role");
  return Role::kViewer;
}

bool RoleSet::HasStaff() const {
  return std::any_of(std::begin(kAllRoles), std::end(kAllRoles),
                     [&](Role r) { return r != Role::kPublic && r != Role::kDevice && Has(r); });
}

std::string RoleSet::ToString() const {
  std::string out;
  for (const Role r : kAllRoles) {
    if (Has(r)) {
      out += out.empty() ? "" : ", ";
      out += RoleName(r);
    }
  }
  return out;
}

const std::string& PathParams::Get(std::string_view name) const {
  for (const auto& [key, value] : values_) {
    if (key == name) {
      return value;
    }
  }
  WARD_CHECK(false && "a handler asked for a path parameter its route does not have");
  return values_.front().second;
}

std::int64_t PathParams::Int(std::string_view name) const {
  const std::string& text = Get(name);
  std::int64_t v = 0;
  std::from_chars(text.data(), text.data() + text.size(), v);
  return v;
}

Result<RoutePattern> RoutePattern::Parse(std::string_view pattern) {
  if (!pattern.starts_with('/')) {
    return InvalidArgumentError("route pattern '" + std::string(pattern) + "' must start with /");
  }
  RoutePattern p;
  p.text_ = std::string(pattern);
  const auto parts = Segments(pattern);
  for (std::size_t i = 0; i < parts.size(); ++i) {
    const std::string_view part = parts[i];
    Segment s;
    if (!part.starts_with('{')) {
      if (part.find_first_of("{}") != std::string_view::npos) {
        return InvalidArgumentError("route pattern '" + p.text_ + "': a parameter must be a " +
                                    "whole segment");
      }
      s.text = std::string(part);
      p.segments_.push_back(std::move(s));
      continue;
    }
    const std::size_t colon = part.find(':');
    if (!part.ends_with('}') || colon == std::string_view::npos || colon == 1) {
      return InvalidArgumentError("route pattern '" + p.text_ + "': write parameters as " +
                                  "{name:type}");
    }
    s.text = std::string(part.substr(1, colon - 1));
    const std::string_view type = part.substr(colon + 1, part.size() - colon - 2);
    if (type == "uuid") {
      s.kind = Kind::kUuid;
    } else if (type == "int") {
      s.kind = Kind::kInt;
    } else if (type == "segment") {
      s.kind = Kind::kSegment;
    } else if (type == "path") {
      if (i + 1 != parts.size()) {
        return InvalidArgumentError("route pattern '" + p.text_ + "': {" + s.text +
                                    ":path} must be the last segment");
      }
      s.kind = Kind::kPath;
    } else {
      return InvalidArgumentError("route pattern '" + p.text_ + "': unknown parameter type '" +
                                  std::string(type) + "' (uuid, int, segment or path)");
    }
    for (const Segment& other : p.segments_) {
      if (other.kind != Kind::kLiteral && other.text == s.text) {
        return InvalidArgumentError("route pattern '" + p.text_ + "' names '" + s.text + "' twice");
      }
    }
    p.segments_.push_back(std::move(s));
  }
  return p;
}

bool RoutePattern::Match(std::string_view path, PathParams* params) const {
  if (!path.starts_with('/')) {
    return false;
  }
  const auto parts = Segments(path);
  PathParams found;
  for (std::size_t i = 0; i < segments_.size(); ++i) {
    const Segment& s = segments_[i];
    if (s.kind == Kind::kPath) {
      if (i >= parts.size()) {
        return false;
      }
      for (std::size_t j = i; j < parts.size(); ++j) {
        if (parts[j].empty() || parts[j] == "." || parts[j] == "..") {
          return false;
        }
      }
      const std::size_t offset = static_cast<std::size_t>(parts[i].data() - path.data());
      found.Set(s.text, std::string(path.substr(offset)));
      if (params != nullptr) {
        *params = std::move(found);
      }
      return true;
    }
    if (i >= parts.size()) {
      return false;
    }
    const std::string_view part = parts[i];
    switch (s.kind) {
      case Kind::kLiteral:
        if (part != s.text) {
          return false;
        }
        continue;
      case Kind::kUuid:
        // The canonical form only: 36 characters, so "{id:uuid}" never matches a longer text.
        if (part.size() != 36 || !Uuid::Parse(part).has_value()) {
          return false;
        }
        break;
      case Kind::kInt:
        if (!IsDigits(part) || part.size() > 18) {
          return false;
        }
        break;
      case Kind::kSegment:
        if (part.empty()) {
          return false;
        }
        break;
      case Kind::kPath:
        break;  // handled above
    }
    found.Set(s.text, std::string(part));
  }
  if (parts.size() != segments_.size()) {
    return false;
  }
  if (params != nullptr) {
    *params = std::move(found);
  }
  return true;
}

struct Router::Entry {
  Route route;
  RoutePattern pattern;
  RoleSet roles;
};

Router::Router(std::span<const AccessRule> access, DeviceAuthenticator* device)
    : access_(access), device_(device) {}

Router::~Router() = default;

void Router::AddStaffAuthenticator(std::unique_ptr<StaffAuthenticator> authenticator) {
  staff_.push_back(std::move(authenticator));
}

Status Router::Add(Route route) {
  WARD_ASSIGN_OR_RETURN(RoutePattern pattern, RoutePattern::Parse(route.pattern));
  const std::string name = route.method + " " + route.pattern;
  const auto rule = std::find_if(access_.begin(), access_.end(), [&](const AccessRule& a) {
    return a.method == route.method && a.pattern == route.pattern;
  });
  if (rule == access_.end() || rule->roles.empty()) {
    return InvalidArgumentError("route " + name + " is not in the role table");
  }
  const RoleSet roles = rule->roles;
  const bool is_public = roles.Has(Role::kPublic);
  const bool is_device = roles.Has(Role::kDevice);
  const bool is_staff = roles.HasStaff();
  if (static_cast<int>(is_public) + static_cast<int>(is_device) + static_cast<int>(is_staff) != 1) {
    return InvalidArgumentError("route " + name + " mixes public, device and staff roles (" +
                                roles.ToString() + "): declare one route per audience");
  }
  const bool fits = (is_public && std::holds_alternative<PublicHandler>(route.handler)) ||
                    (is_device && std::holds_alternative<DeviceHandler>(route.handler)) ||
                    (is_staff && std::holds_alternative<StaffHandler>(route.handler));
  if (!fits) {
    return InvalidArgumentError("route " + name + " has a handler that does not fit its roles (" +
                                roles.ToString() + ")");
  }
  if (is_device && device_ == nullptr) {
    return InvalidArgumentError("route " + name + " admits devices but no device authenticator");
  }
  for (const Entry& e : routes_) {
    if (e.route.method == route.method && e.route.pattern == route.pattern) {
      return InvalidArgumentError("route " + name + " is declared twice");
    }
  }
  routes_.push_back(Entry{std::move(route), std::move(pattern), roles});
  return OkStatus();
}

void Router::SetErrorStyle(std::string prefix, ErrorStyle style) {
  styles_.emplace_back(std::move(prefix), style);
}

void Router::SetObserver(std::function<void(std::string_view, int)> observer) {
  observer_ = std::move(observer);
}

Status Router::CheckComplete() const {
  std::string missing;
  for (const AccessRule& a : access_) {
    const bool served = std::any_of(routes_.begin(), routes_.end(), [&](const Entry& e) {
      return e.route.method == a.method && e.route.pattern == a.pattern;
    });
    if (!served) {
      missing += missing.empty() ? "" : ", ";
      missing += std::string(a.method) + " " + std::string(a.pattern);
    }
  }
  if (!missing.empty()) {
    return FailedPreconditionError("the role table lists routes nobody serves: " + missing);
  }
  return OkStatus();
}

ErrorStyle Router::StyleFor(std::string_view path) const {
  ErrorStyle style = ErrorStyle::kProtobuf;
  std::size_t longest = 0;
  for (const auto& [prefix, s] : styles_) {
    if (path.starts_with(prefix) && prefix.size() >= longest) {
      longest = prefix.size();
      style = s;
    }
  }
  return style;
}

HandlerResult Router::Dispatch(const HttpRequest& request) const {
  const Entry* match = nullptr;
  PathParams params;
  std::string allowed;
  ErrorStyle allowed_style = ErrorStyle::kProtobuf;
  for (const Entry& e : routes_) {
    if (e.route.method == request.method) {
      if (e.pattern.Match(request.path, &params)) {
        match = &e;
        break;
      }
    } else if (e.pattern.Match(request.path, nullptr)) {
      allowed += allowed.empty() ? "" : ", ";
      allowed += e.route.method;
      allowed_style = e.route.errors;
    }
  }
  HandlerResult result;
  if (match != nullptr) {
    result = Run(*match, request, params);
  } else if (!allowed.empty()) {
    HttpResponse r =
        ErrorResponse(allowed_style, 405, "use " + allowed + " for " + std::string(request.path));
    r.headers.emplace_back("Allow", allowed);
    result = std::move(r);
  } else {
    result = ErrorResponse(StyleFor(request.path), 404,
                           "no endpoint " + request.method + " " + request.path);
  }
  if (observer_) {
    const auto* response = std::get_if<HttpResponse>(&result);
    observer_(match != nullptr ? std::string_view(match->route.pattern) : "other",
              response != nullptr ? response->status : 0);
  }
  return result;
}

HandlerResult Router::Run(const Entry& entry, const HttpRequest& request,
                          const PathParams& params) const {
  const Route& route = entry.route;
  try {
    std::variant<std::monostate, DevicePrincipal, StaffPrincipal> who;
    if (entry.roles.Has(Role::kDevice)) {
      auto device = device_->Authenticate(request);
      if (!device.has_value()) {
        return ErrorResponse(route.errors, device.error());
      }
      who = std::move(*device);
    } else if (!entry.roles.Has(Role::kPublic)) {
      auto staff = AuthenticateStaff(request);
      if (!staff.has_value()) {
        return ErrorResponse(route.errors, staff.error());
      }
      if (!entry.roles.Has(RoleOf(staff->role))) {
        return ErrorResponse(route.errors, 403,
                             "your role (" + std::string(StaffRoleName(staff->role)) +
                                 ") cannot use " + route.method + " " + route.pattern +
                                 "; it is for: " + entry.roles.ToString());
      }
      who = std::move(*staff);
    }
    if (request.body.size() > route.max_body_bytes) {
      return ErrorResponse(route.errors, 413,
                           "the body is larger than this endpoint accepts (" +
                               std::to_string(route.max_body_bytes) + " bytes)");
    }
    const Call call{request, params};
    if (const auto* device = std::get_if<DevicePrincipal>(&who)) {
      return std::get<DeviceHandler>(route.handler)(call, *device);
    }
    if (const auto* staff = std::get_if<StaffPrincipal>(&who)) {
      return std::get<StaffHandler>(route.handler)(call, *staff);
    }
    return std::get<PublicHandler>(route.handler)(call);
  } catch (const std::exception& e) {
    // Our code does not throw; this catches protobuf/Poco/std surprises at the boundary.
    log::Error("request failed", {{"path", request.path}, {"error", e.what()}});
    return ErrorResponse(route.errors, 500, "internal error");
  }
}

Result<StaffPrincipal> Router::AuthenticateStaff(const HttpRequest& request) const {
  for (const auto& authenticator : staff_) {
    WARD_ASSIGN_OR_RETURN(std::optional<StaffPrincipal> who, authenticator->Authenticate(request));
    if (who.has_value()) {
      return std::move(*who);
    }
  }
  return UnauthenticatedError(std::string(kStaffCredentialHint));
}

std::vector<Router::RouteInfo> Router::Routes() const {
  std::vector<RouteInfo> out;
  for (const Entry& e : routes_) {
    out.push_back(RouteInfo{e.route.method, e.route.pattern, e.roles, e.route.max_body_bytes});
  }
  return out;
}

}  // namespace ward::collector::internal
