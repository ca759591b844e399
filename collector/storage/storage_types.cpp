// SPDX-License-Identifier: Apache-2.0
#include <array>
#include <utility>

#include "ward/collector/storage/storage.h"

namespace ward::collector {
namespace {

constexpr std::array<std::pair<StaffRole, std::string_view>, 4> kRoles = {{
    {StaffRole::kIt, "it"},
    {StaffRole::kDsl, "dsl"},
    {StaffRole::kViewer, "viewer"},
    {StaffRole::kMetrics, "metrics"},
}};

constexpr std::array<std::pair<ConcernStatus, std::string_view>, 4> kStatuses = {{
    {ConcernStatus::kNew, "new"},
    {ConcernStatus::kInProgress, "in-progress"},
    {ConcernStatus::kReferred, "referred"},
    {ConcernStatus::kClosed, "closed"},
}};

constexpr std::array<std::pair<IncidentKind, std::string_view>, 4> kIncidentKinds = {{
    {IncidentKind::kNote, "note"},
    {IncidentKind::kStatus, "status"},
    {IncidentKind::kParentContacted, "parent-contacted"},
    {IncidentKind::kReferredExternal, "referred-external"},
}};

template <typename E, std::size_t N>
std::string_view NameOf(const std::array<std::pair<E, std::string_view>, N>& table, E value) {
  for (const auto& [v, name] : table) {
    if (v == value) {
      return name;
    }
  }
  return "unknown";
}

template <typename E, std::size_t N>
Result<E> Parse(const std::array<std::pair<E, std::string_view>, N>& table, std::string_view text,
                std::string_view what) {
  std::string allowed;
  for (const auto& [v, name] : table) {
    if (name == text) {
      return v;
    }
    allowed += allowed.empty() ? "" : ", ";
    allowed += name;
  }
  return InvalidArgumentError("unknown " + std::string(what) + " '" + std::string(text) +
                              "' (expected one of: " + allowed + ")");
}

}  // namespace

std::string_view StaffRoleName(StaffRole role) { return NameOf(kRoles, role); }
Result<StaffRole> ParseStaffRole(std::string_view name) { return Parse(kRoles, name, "role"); }
std::string_view ConcernStatusName(ConcernStatus status) { return NameOf(kStatuses, status); }
Result<ConcernStatus> ParseConcernStatus(std::string_view name) {
  return Parse(kStatuses, name, "concern status");
}

std::string_view IncidentKindName(IncidentKind kind) { return NameOf(kIncidentKinds, kind); }
Result<IncidentKind> ParseIncidentKind(std::string_view name) {
  return Parse(kIncidentKinds, name, "incident-log entry");
}

bool IsAuditWriteFailure(const Error& error) {
  return error.message().starts_with(kAuditWriteFailed);
}

}  // namespace ward::collector
