// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <mutex>
#include <string>
#include <tuple>
#include <vector>

#include "ward/agent/ipc/agent_control.h"

namespace ward::agent::ipc::testing {

// An AgentControl for tests: answers from fixed data and records every call with the Caller the
// server stamped on it. Thread-safe (the server calls it on its loop thread, tests read it).
class TestAgentControl final : public AgentControl {
 public:
  struct ConcernCall {
    Caller caller;
    v1::SubmitConcernRequest request;
  };

  TestAgentControl() {
    status_.set_state(v1::StatusResponse::STATE_PROTECTED);
    status_.set_policy_version(7);
    status_.set_policy_name("Learner laptops");
    summary_.add_lines("USB memory sticks are blocked. Keyboards, mice and headsets work.");
    summary_.add_lines("Only approved programs can run.");
    summary_.add_lines("You can't change network or security settings.");
    auto* contacts = summary_.mutable_contacts();
    contacts->set_dsl_name("Sam Patel");
    contacts->set_dsl_email("safeguarding@example.org");
    contacts->set_dsl_phone("01632 960 123");
    contacts->set_it_helpdesk("IT help desk, room B12");
    contacts->set_organisation("Example Training");
    auto* aup = summary_.mutable_aup();
    aup->set_version(3);
    aup->set_title("Using your laptop");
    aup->set_text_under_18("Be kind online.\n\nKeep your password to yourself.");
    aup->set_text_adult("Use the laptop for your course.\n\nKeep your password private.");
    summary_.set_audience(v1::AUDIENCE_UNDER_18);
    for (const auto& [what, how_long, who] :
         {std::tuple{"Which USB devices were plugged in, and whether they were blocked.",
                     "Until it reaches the college.", "The IT team."},
          std::tuple{"Which programs were blocked from running.", "Until it reaches the college.",
                     "The IT team."},
          std::tuple{"Reports you send with \"Report a concern\".",
                     "As long as safeguarding rules say.", "Only the safeguarding team."}}) {
      summary_.add_data_inventory(what);
      auto* kept = summary_.add_kept();
      kept->set_what(what);
      kept->set_how_long(how_long);
      kept->set_who_sees(who);
    }
  }

  Result<v1::StatusResponse> Status(const Caller& caller) override {
    std::scoped_lock lock(mu_);
    callers_.push_back(caller);
    auto status = status_;
    status.set_aup_pending(accepted_aup_version_ < summary_.aup().version());
    return status;
  }
  Result<v1::PolicySummaryResponse> PolicySummary(const Caller& caller) override {
    std::scoped_lock lock(mu_);
    callers_.push_back(caller);
    return summary_;
  }
  Result<v1::SubmitConcernResponse> SubmitConcern(const Caller& caller,
                                                  const v1::SubmitConcernRequest& r) override {
    std::scoped_lock lock(mu_);
    callers_.push_back(caller);
    if (r.text().empty() && r.category() == v1::CONCERN_CATEGORY_UNSPECIFIED) {
      return InvalidArgumentError("Please say what happened.");
    }
    concerns_.push_back({caller, r});
    v1::SubmitConcernResponse response;
    response.set_reference("K7QF-2M9" + std::to_string(concerns_.size()));
    response.set_event_id("event-" + std::to_string(concerns_.size()));
    return response;
  }
  ward::Status AcceptAup(const Caller& caller, const v1::AcceptAupRequest& r) override {
    std::scoped_lock lock(mu_);
    callers_.push_back(caller);
    if (r.aup_version() != summary_.aup().version()) {
      return FailedPreconditionError("That agreement has changed. Please read the new one.");
    }
    accepted_aup_version_ = r.aup_version();
    ++aup_acceptances_;
    return OkStatus();
  }
  ward::Status Subscribe(const Caller& caller) override {
    std::scoped_lock lock(mu_);
    callers_.push_back(caller);
    ++subscriptions_;
    return OkStatus();
  }

  std::vector<Caller> callers() const {
    std::scoped_lock lock(mu_);
    return callers_;
  }
  std::vector<ConcernCall> concerns() const {
    std::scoped_lock lock(mu_);
    return concerns_;
  }
  int aup_acceptances() const {
    std::scoped_lock lock(mu_);
    return aup_acceptances_;
  }
  int subscriptions() const {
    std::scoped_lock lock(mu_);
    return subscriptions_;
  }
  void SetState(v1::StatusResponse::State state) {
    std::scoped_lock lock(mu_);
    status_.set_state(state);
  }

 private:
  mutable std::mutex mu_;
  v1::StatusResponse status_;
  v1::PolicySummaryResponse summary_;
  std::vector<Caller> callers_;
  std::vector<ConcernCall> concerns_;
  std::uint32_t accepted_aup_version_ = 0;
  int aup_acceptances_ = 0;
  int subscriptions_ = 0;
};

}  // namespace ward::agent::ipc::testing
