// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "internal/http_server.h"
#include "internal/router.h"
#include "ward/collector/server/concern_alerter.h"
#include "ward/collector/storage/storage.h"
#include "ward/common/clock.h"

namespace ward::collector::internal {

// Tells open inboxes that a concern arrived, without a polling timer: the console holds
// GET /v1/staff/concerns/wait?after=<version> parked on the HTTP server (no thread, as the
// policy long-poll, docs/adr/0002) until the version moves on, then fetches the new page. The
// answer carries only the version, never a concern. It sits in front of the real alerter (it
// is what the device API calls for each new concern) and passes every alert on. With a shared
// PostgreSQL store it announces each concern (NOTIFY) and follows the others' announcements,
// so an inbox open on one collector hears of a concern stored by another. Versions are this
// process's own: a client that brings another's is answered at once and parks on the next
// call. Thread-safe; everything passed in must outlive it.
class InboxFeed final : public ConcernAlerter {
 public:
  using Publisher =
      std::function<void(const std::string& key, std::uint64_t version, HttpResponse answer)>;

  InboxFeed(Storage& storage, ConcernAlerter& next, const Clock& clock,
            std::chrono::seconds long_poll_max, Publisher publish);
  ~InboxFeed() override;
  InboxFeed(const InboxFeed&) = delete;
  InboxFeed& operator=(const InboxFeed&) = delete;

  // Follows the other collectors' announcements (a no-op on SQLite).
  Status Start();
  void Stop();
  // Adds GET /v1/staff/concerns/wait.
  Status Register(Router& router);

  void OnNewConcern(const ConcernAlert& alert) override;
  std::string MetricsText() const override { return next_.MetricsText(); }

  // The park key: a NUL byte first, so it cannot be a group's name (the policy feed's keys).
  static const std::string& Key();

 private:
  HandlerResult Wait(const Call& call, const StaffPrincipal& who);
  // Moves the version on and wakes every parked inbox.
  void Bump();

  Storage& storage_;
  ConcernAlerter& next_;
  const Clock& clock_;
  const std::chrono::seconds long_poll_max_;
  const Publisher publish_;
  const std::string origin_;  // a random id of this process, in its own announcements
  std::atomic<std::uint64_t> version_;
  std::unique_ptr<PolicyChangeSubscription> subscription_;
};

}  // namespace ward::collector::internal
