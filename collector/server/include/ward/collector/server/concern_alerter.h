// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <string>

namespace ward::collector {

// What an alert may carry. Deliberately not the learner's words, name or screenshot: alerts go
// over channels (e-mail, chat webhooks) that are not as protected as the concerns inbox.
struct ConcernAlert {
  std::string concern_id;
  std::string reference;  // the code the learner was shown, e.g. "K7QF-2M9X"
  std::string device_id;
  std::string group;
  int category = 0;  // ward.v1.ConcernCategory
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
};

// Writes one log line per new concern; the default until webhook/e-mail delivery exists.
class LogConcernAlerter final : public ConcernAlerter {
 public:
  void OnNewConcern(const ConcernAlert& alert) override;
};

}  // namespace ward::collector
