// SPDX-License-Identifier: Apache-2.0
#include "internal/policy_feed.h"

#include <algorithm>
#include <vector>

#include "internal/responses.h"
#include "ward/common/log.h"
#include "ward/v1/sync.pb.h"

namespace ward::collector::internal {
namespace {

HttpResponse PolicyAnswer(const PolicySnapshot& snapshot) {
  ward::v1::PolicyFetchResponse out;
  out.set_latest_version(snapshot.version);
  out.mutable_policy()->ParseFromString(snapshot.signed_policy);
  return Proto(out);
}

}  // namespace

PolicyFeed::PolicyFeed(Storage& storage, const Clock& clock, std::chrono::seconds long_poll_max,
                       Publisher publish)
    : storage_(storage),
      clock_(clock),
      long_poll_max_(long_poll_max),
      publish_(std::move(publish)) {}

PolicyFeed::~PolicyFeed() { Stop(); }

Status PolicyFeed::Start() {
  WARD_ASSIGN_OR_RETURN(subscription_, storage_.SubscribePolicyChanges(
                                           [this](const std::string& group) { Changed(group); }));
  return OkStatus();
}

void PolicyFeed::Stop() { subscription_.reset(); }

bool PolicyFeed::shared() const { return subscription_ != nullptr; }

Result<PolicySnapshot> PolicyFeed::Snapshot(const std::string& group) {
  {
    std::scoped_lock lock(mu_);
    if (auto it = policies_.find(group); it != policies_.end()) {
      return it->second;
    }
  }
  WARD_ASSIGN_OR_RETURN(auto latest, storage_.LatestPolicy(group));
  PolicySnapshot s;
  if (latest.has_value()) {
    s = PolicySnapshot{latest->version, latest->signed_policy};
  }
  std::scoped_lock lock(mu_);
  auto& cached = policies_[group];
  if (cached.version < s.version || cached.version == 0) {
    cached = s;
  }
  return cached;
}

Result<HandlerResult> PolicyFeed::Fetch(const std::string& group, std::uint64_t current_version,
                                        std::chrono::seconds wait) {
  WARD_ASSIGN_OR_RETURN(PolicySnapshot snapshot, Snapshot(group));
  if (snapshot.version > current_version) {
    return HandlerResult(PolicyAnswer(snapshot));
  }
  ward::v1::PolicyFetchResponse none;
  none.set_latest_version(snapshot.version);
  wait = std::min(wait, long_poll_max_);
  if (wait.count() <= 0) {
    return HandlerResult(Proto(none));
  }
  return HandlerResult(Park{group, current_version, clock_.SteadyNow() + wait, Proto(none)});
}

void PolicyFeed::Changed(const std::string& group) {
  std::vector<std::string> groups;
  if (group.empty()) {
    auto all = storage_.ListGroups();
    if (!all.has_value()) {
      log::Error("cannot refresh policies", {{"error", all.error().ToString()}});
      return;
    }
    for (const Group& g : *all) {
      groups.push_back(g.name);
    }
  } else {
    groups.push_back(group);
  }
  for (const std::string& g : groups) {
    auto latest = storage_.LatestPolicy(g);
    if (!latest.has_value() || !latest->has_value()) {
      continue;
    }
    PolicySnapshot s{(*latest)->version, (*latest)->signed_policy};
    {
      std::scoped_lock lock(mu_);
      auto& cached = policies_[g];
      if (cached.version >= s.version) {
        continue;
      }
      cached = s;
    }
    publish_(g, s.version, PolicyAnswer(s));
    log::Info("policy published", {{"group", g}, {"version", s.version}});
  }
}

}  // namespace ward::collector::internal
