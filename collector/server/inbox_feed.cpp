// SPDX-License-Identifier: Apache-2.0
#include "internal/inbox_feed.h"

#include <Poco/JSON/Object.h>

#include <algorithm>

#include "internal/console_api.h"
#include "internal/query_params.h"
#include "internal/responses.h"
#include "ward/collector/storage/secrets.h"
#include "ward/common/log.h"

namespace ward::collector::internal {
namespace {

HttpResponse VersionAnswer(std::uint64_t version) {
  Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
  o->set("version", version);
  HttpResponse r = Json(o);
  SecureApiResponse(r);
  return r;
}

}  // namespace

InboxFeed::InboxFeed(Storage& storage, ConcernAlerter& next, const Clock& clock,
                     std::chrono::seconds long_poll_max, Publisher publish)
    : storage_(storage),
      next_(next),
      clock_(clock),
      long_poll_max_(long_poll_max),
      publish_(std::move(publish)),
      origin_(NewSecret().substr(0, 16)),
      // Starts at the wall clock in ms, so a restarted collector does not reuse old versions.
      version_(static_cast<std::uint64_t>(
          std::chrono::duration_cast<std::chrono::milliseconds>(clock.Now().time_since_epoch())
              .count())) {}

InboxFeed::~InboxFeed() { Stop(); }

const std::string& InboxFeed::Key() {
  static const std::string kKey("\0console-inbox", 14);
  return kKey;
}

Status InboxFeed::Start() {
  WARD_ASSIGN_OR_RETURN(subscription_,
                        storage_.SubscribeConcernArrivals([this](const std::string& origin) {
                          if (origin != origin_) {
                            Bump();  // another collector's concern, or "" after a reconnect
                          }
                        }));
  return OkStatus();
}

void InboxFeed::Stop() { subscription_.reset(); }

Status InboxFeed::Register(Router& router) {
  return router.Add(
      Route{"GET", "/v1/staff/concerns/wait", 0, ErrorStyle::kJson,
            StaffHandler([this](const Call& c, const StaffPrincipal& w) { return Wait(c, w); })});
}

void InboxFeed::OnNewConcern(const ConcernAlert& alert) {
  next_.OnNewConcern(alert);
  Bump();
  if (auto s = storage_.AnnounceConcernArrival(origin_); !s.has_value()) {
    // The concern is stored; only inboxes open on other collectors hear of it late (at their
    // next long-poll answer).
    log::Warning("cannot announce a new concern to other collectors",
                 {{"error", s.error().ToString()}});
  }
}

void InboxFeed::Bump() {
  const std::uint64_t v = version_.fetch_add(1) + 1;
  publish_(Key(), v, VersionAnswer(v));
}

// ?after=<version>: answered at once when absent or not this collector's current version,
// otherwise held until the next concern or the long-poll limit.
HandlerResult InboxFeed::Wait(const Call& call, const StaffPrincipal& /*who*/) {
  auto q = ParseQuery(call.request.query);
  const std::uint64_t current = version_.load();
  const auto it = q.find("after");
  if (it == q.end() || ToInt(it->second, -1) != static_cast<std::int64_t>(current)) {
    return VersionAnswer(current);
  }
  const auto wait = std::min<std::chrono::seconds>(long_poll_max_, std::chrono::seconds(25));
  return Park{Key(), current, clock_.SteadyNow() + wait, VersionAnswer(current)};
}

}  // namespace ward::collector::internal
