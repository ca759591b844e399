// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <string>

namespace ward::collector {

// What an alert may carry (docs/adr/0003): that a concern arrived, its id and reference, when,
// and whether the learner said they are in danger now. Deliberately not the learner's words,
// name, screenshot, category, device or group: alerts go over channels (e-mail, chat webhooks)
// that are not as protected as the concerns inbox.
struct ConcernAlert {
  std::string concern_id;
  std::string reference;  // the code the learner was shown, e.g. "K7QF-2M9X"
  std::int64_t received_ms = 0;
  bool in_danger = false;
};

// Told about every concern the collector stores for the first time, so the DSL hears about it
// without watching the inbox. Called on a collector worker thread, after the concern is stored;
// implementations must be thread-safe and must not block for long (queue and deliver
// asynchronously). A delivery failure must not lose the concern: it is already in the inbox.
class ConcernAlerter {
 public:
  virtual ~ConcernAlerter() = default;
  virtual void OnNewConcern(const ConcernAlert& alert) = 0;
  // Prometheus text exposition lines appended to /metrics; "" for none.
  virtual std::string MetricsText() const { return {}; }
};

// Writes one log line per new concern (used when no webhook or e-mail is configured).
class LogConcernAlerter final : public ConcernAlerter {
 public:
  void OnNewConcern(const ConcernAlert& alert) override;
};

}  // namespace ward::collector
