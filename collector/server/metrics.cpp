// SPDX-License-Identifier: Apache-2.0
#include "internal/metrics.h"

#include <string_view>
#include <utility>

namespace ward::collector::internal {
namespace {

void Line(std::string& out, std::string_view name, std::string_view type, std::string_view help,
          std::uint64_t value) {
  out += "# HELP ";
  out += name;
  out += ' ';
  out += help;
  out += "\n# TYPE ";
  out += name;
  out += ' ';
  out += type;
  out += '\n';
  out += name;
  out += ' ';
  out += std::to_string(value);
  out += '\n';
}

}  // namespace

void Metrics::CountRequest(std::string_view endpoint, int status) {
  std::scoped_lock lock(mu_);
  ++requests_[{std::string(endpoint), status}];
}

void Metrics::CountRetention(const RetentionCounts& counts) {
  std::scoped_lock lock(mu_);
  retention_deleted_ += counts;
}

std::string Metrics::Render(std::uint64_t connections_open, std::uint64_t long_polls_waiting,
                            std::uint64_t handshake_failures) const {
  std::string out;
  out +=
      "# HELP ward_collector_requests_total Requests answered, by endpoint and status "
      "(status 0: held as a long-poll).\n# TYPE ward_collector_requests_total counter\n";
  {
    std::scoped_lock lock(mu_);
    for (const auto& [key, count] : requests_) {
      out += "ward_collector_requests_total{endpoint=\"" + key.first + "\",status=\"" +
             std::to_string(key.second) + "\"} " + std::to_string(count) + "\n";
    }
  }
  Line(out, "ward_collector_events_stored_total", "counter", "Events stored.", events_stored);
  Line(out, "ward_collector_events_duplicate_total", "counter",
       "Events acknowledged that were already stored.", events_duplicate);
  Line(out, "ward_collector_events_rejected_total", "counter", "Malformed events refused.",
       events_rejected);
  Line(out, "ward_collector_concerns_new_total", "counter", "New concerns stored.", concerns_new);
  Line(out, "ward_collector_concerns_deferred_total", "counter",
       "Concerns over a device's quota, left with its agent to send again.", concerns_deferred);
  Line(out, "ward_collector_policy_pushes_total", "counter", "Policies pushed here.",
       policy_pushes);
  Line(out, "ward_collector_long_polls_total", "counter", "Policy long-polls held.", long_polls);
  Line(out, "ward_collector_rate_limited_total", "counter", "Requests answered 429.", rate_limited);
  Line(out, "ward_collector_enrol_refused_total", "counter",
       "Enrolments refused: a wrong secret, a revoked or unproven machine hash.", enrol_refused);
  out +=
      "# HELP ward_collector_retention_deleted_total Records the retention job deleted, by "
      "class.\n# TYPE ward_collector_retention_deleted_total counter\n";
  {
    std::scoped_lock lock(mu_);
    const std::pair<std::string_view, std::uint64_t> classes[] = {
        {"telemetry", retention_deleted_.telemetry},
        {"aup", retention_deleted_.aup},
        {"concerns", retention_deleted_.concerns},
        {"audit", retention_deleted_.audit}};
    for (const auto& [name, count] : classes) {
      out += "ward_collector_retention_deleted_total{class=\"" + std::string(name) + "\"} " +
             std::to_string(count) + "\n";
    }
  }
  Line(out, "ward_collector_devices_unseen", "gauge",
       "Devices not seen for the retention limit (flagged, never deleted), at the last run.",
       devices_unseen);
  Line(out, "ward_collector_connections_open", "gauge", "Open TLS connections.", connections_open);
  Line(out, "ward_collector_long_polls_waiting", "gauge", "Long-polls waiting now.",
       long_polls_waiting);
  Line(out, "ward_collector_tls_handshake_failures_total", "counter", "Failed TLS handshakes.",
       handshake_failures);
  return out;
}

}  // namespace ward::collector::internal
