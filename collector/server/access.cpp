// SPDX-License-Identifier: Apache-2.0
// Who may call what. Handlers never check roles themselves: a route's handler runs only for a
// caller whose role is in its row (the router checks). What a role *sees* (a DSL's full concern
// against IT's redacted one) is the handler's business; whether it may call at all is this
// table's.
#include "internal/access.h"

namespace ward::collector::internal {
namespace {

constexpr RoleSet kPublic = {Role::kPublic};
constexpr RoleSet kDevice = {Role::kDevice};
constexpr RoleSet kAnyStaff = {Role::kIt, Role::kDsl, Role::kViewer};
constexpr RoleSet kIt = {Role::kIt};
constexpr RoleSet kDsl = {Role::kDsl};
// IT sees concerns redacted (id, device, group, time, status); the DSL in full.
constexpr RoleSet kConcernReaders = {Role::kIt, Role::kDsl};
// /metrics counts concerns and their alerts as they arrive: a monitoring system's own token
// (role `metrics`, good for nothing else) or IT, never the public (docs/security.md).
constexpr RoleSet kOperators = {Role::kMetrics, Role::kIt};

constexpr AccessRule kTable[] = {
    // Health and metrics.
    {"GET", "/healthz", kPublic},
    {"GET", "/metrics", kOperators},
    // Device API (protobuf).
    {"POST", "/v1/enrol", kPublic},
    {"POST", "/v1/events", kDevice},
    {"POST", "/v1/policy", kDevice},
    {"POST", "/v1/status", kDevice},
    // Staff API (JSON).
    {"GET", "/v1/staff/devices", kAnyStaff},
    {"GET", "/v1/staff/devices/{id:uuid}", kAnyStaff},
    {"GET", "/v1/staff/devices/{id:uuid}/events", kAnyStaff},
    {"POST", "/v1/staff/devices/{id:uuid}/revoke", kIt},
    {"POST", "/v1/staff/devices/{id:uuid}/readmit", kIt},
    {"GET", "/v1/staff/groups", kAnyStaff},
    {"GET", "/v1/staff/groups/{name:segment}", kAnyStaff},
    {"GET", "/v1/staff/groups/{name:segment}/policies", kAnyStaff},
    {"GET", "/v1/staff/groups/{name:segment}/policy", kAnyStaff},
    {"GET", "/v1/staff/events", kAnyStaff},
    {"POST", "/v1/staff/policy", kIt},
    {"GET", "/v1/staff/concerns", kConcernReaders},
    {"GET", "/v1/staff/concerns/urgent", kDsl},
    {"GET", "/v1/staff/concerns/summary", kDsl},
    {"GET", "/v1/staff/concerns/wait", kConcernReaders},
    {"GET", "/v1/staff/concerns/{id:uuid}", kConcernReaders},
    {"GET", "/v1/staff/concerns/{id:uuid}/log", kDsl},
    {"GET", "/v1/staff/concerns/{id:uuid}/screenshot", kDsl},
    {"POST", "/v1/staff/concerns/{id:uuid}/status", kDsl},
    {"POST", "/v1/staff/concerns/{id:uuid}/notes", kDsl},
    {"POST", "/v1/staff/concerns/{id:uuid}/actions", kDsl},
    {"GET", "/v1/staff/audit", kDsl},
    // Subject access (docs/adr/0015): POST so the account name travels in the body.
    {"POST", "/v1/staff/subject/events", kDsl},
    {"POST", "/v1/staff/subject/aup", kDsl},
    {"POST", "/v1/staff/subject/concerns", kDsl},
    {"POST", "/v1/staff/subject/devices", kDsl},
    {"POST", "/v1/staff/subject/screenshot", kDsl},
    // Console sessions: a staff token exchanged once for a session cookie (docs/console.md).
    {"POST", "/v1/staff/session", kPublic},
    {"GET", "/v1/staff/session", kAnyStaff},
    {"POST", "/v1/staff/session/end", kAnyStaff},
    // The console's pages and scripts.
    {"GET", "/console", kPublic},
    {"GET", "/console/", kPublic},
    {"GET", "/console/{file:path}", kPublic},
};

}  // namespace

std::span<const AccessRule> AccessTable() { return kTable; }

}  // namespace ward::collector::internal
