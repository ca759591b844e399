// SPDX-License-Identifier: Apache-2.0
#include "internal/server_engine.h"

#include <algorithm>
#include <exception>
#include <utility>

#include "ward/common/log.h"

namespace ward::agent::ipc::internal {
namespace {

// The decoded screenshot limit from event.proto (the frame limit leaves room for the rest).
constexpr std::size_t kMaxScreenshotBytes = 4u * 1024 * 1024;

v1::IpcError ToIpcError(const Error& error) {
  v1::IpcError out;
  out.set_code(std::string(ErrorCodeName(error.code())));
  out.set_message(error.message());
  return out;
}

std::string RetryMessage(std::string_view what, std::uint32_t seconds) {
  const std::uint32_t minutes = (seconds + 59) / 60;
  std::string when = minutes <= 1 ? "a minute" : std::to_string(minutes) + " minutes";
  return std::string(what) + " Please wait " + when +
         " and try again. If you are in danger now, call 999.";
}

}  // namespace

void Session::Consumed(std::size_t n) {
  out_offset += n;
  if (out_offset >= out.size()) {
    out.clear();
    out_offset = 0;
  }
}

ServerEngine::ServerEngine(IpcServerOptions options, AgentControl& control, Clock& clock,
                           WriteNow write_now)
    : options_(std::move(options)),
      control_(control),
      write_now_(std::move(write_now)),
      concern_limiter_(clock, options_.concern_limit),
      aup_limiter_(clock, options_.aup_limit) {}

bool ServerEngine::Admit(Session& s, std::size_t open, std::size_t open_for_user, SteadyTime now) {
  s.last_activity = now;
  if (open < options_.max_clients && open_for_user < options_.max_clients_per_user) {
    return true;
  }
  // Say why, then close: the tray shows this and retries later.
  SendError(s, 0,
            ResourceExhaustedError("Ward is busy right now. Please try again in a minute.").error(),
            now);
  s.closing = true;
  return false;
}

void ServerEngine::OnBytes(Session& s, std::string_view bytes, SteadyTime now) {
  s.last_activity = now;
  auto fed = s.decoder.Feed(bytes);
  std::string payload;
  while (s.decoder.Next(payload)) {
    HandlePayload(s, payload);
  }
  if (!fed) {
    // The stream cannot be framed any more: explain, then hang up.
    log::Warning("ipc frame rejected", {{"user", s.caller.user_id},
                                        {"pid", s.caller.process_id},
                                        {"error", fed.error().ToString()}});
    SendError(s, 0, fed.error(), now);
    s.closing = true;
    return;
  }
  if (s.decoder.HasPartialFrame() && !s.had_partial) {
    s.partial_since = now;
  }
  s.had_partial = s.decoder.HasPartialFrame();
}

void ServerEngine::Send(Session& s, const v1::IpcServerMessage& message, SteadyTime now) {
  auto frame = EncodeFrame(message, options_.max_frame_bytes);
  if (!frame) {
    log::Error("ipc answer not sent", {{"error", frame.error().ToString()}});
    s.closing = true;
    return;
  }
  if (!s.HasOutput()) {
    s.output_since = now;
    s.out.clear();
    s.out_offset = 0;
  }
  s.out.append(*frame);
  if (s.out.size() - s.out_offset > options_.max_output_bytes) {
    log::Warning("ipc client is not reading; closing",
                 {{"user", s.caller.user_id}, {"pid", s.caller.process_id}});
    s.out.clear();
    s.out_offset = 0;
    s.closing = true;
    return;
  }
  if (!write_now_(s)) {
    s.closing = true;
    s.out.clear();
    s.out_offset = 0;
  }
}

void ServerEngine::SendError(Session& s, std::uint64_t request_id, const Error& error,
                             SteadyTime now) {
  v1::IpcServerMessage message;
  auto* response = message.mutable_response();
  response->set_request_id(request_id);
  *response->mutable_error() = ToIpcError(error);
  Send(s, message, now);
}

void ServerEngine::HandlePayload(Session& s, std::string_view payload) {
  const SteadyTime now = std::chrono::steady_clock::now();
  auto request = ParseRequest(payload);
  v1::IpcServerMessage message;
  if (!request) {
    log::Warning("ipc request rejected", {{"user", s.caller.user_id},
                                          {"pid", s.caller.process_id},
                                          {"error", request.error().ToString()}});
    SendError(s, 0, request.error(), now);
    return;
  }
  try {
    *message.mutable_response() = Dispatch(s, *request);
  } catch (const std::exception& e) {
    // AgentControl implementations must not throw; if one does, the loop survives.
    log::Error("ipc request failed with an exception", {{"what", e.what()}});
    message.Clear();
    auto* response = message.mutable_response();
    response->set_request_id(request->request_id());
    response->mutable_error()->set_code("INTERNAL");
    response->mutable_error()->set_message("Something went wrong in Ward. Please try again.");
  }
  Send(s, message, now);
}

v1::IpcResponse ServerEngine::Dispatch(Session& s, const v1::IpcRequest& request) {
  v1::IpcResponse response;
  response.set_request_id(request.request_id());
  auto fail = [&response](const Error& error, std::uint32_t retry_after = 0) {
    *response.mutable_error() = ToIpcError(error);
    response.mutable_error()->set_retry_after_seconds(retry_after);
    return response;
  };
  // The transport asked the kernel when the connection arrived, never the client.
  const Caller& caller = s.caller;

  switch (request.request_case()) {
    case v1::IpcRequest::kStatus: {
      auto result = control_.Status(caller);
      if (!result) {
        return fail(result.error());
      }
      *response.mutable_status() = std::move(*result);
      return response;
    }
    case v1::IpcRequest::kPolicySummary: {
      auto result = control_.PolicySummary(caller);
      if (!result) {
        return fail(result.error());
      }
      *response.mutable_policy_summary() = std::move(*result);
      return response;
    }
    case v1::IpcRequest::kSubmitConcern: {
      if (request.submit_concern().screenshot_png().size() > kMaxScreenshotBytes) {
        return fail(InvalidArgumentError(
                        "The picture is too big to send. Please send the report without it.")
                        .error());
      }
      if (const auto wait = concern_limiter_.TryAcquire(caller.user_id); wait > 0) {
        return fail(ResourceExhaustedError(
                        RetryMessage("You have sent several reports in a short time.", wait))
                        .error(),
                    wait);
      }
      auto result = control_.SubmitConcern(caller, request.submit_concern());
      if (!result) {
        return fail(result.error());
      }
      *response.mutable_submit_concern() = std::move(*result);
      return response;
    }
    case v1::IpcRequest::kAcceptAup: {
      if (const auto wait = aup_limiter_.TryAcquire(caller.user_id); wait > 0) {
        return fail(
            ResourceExhaustedError(RetryMessage("That was a lot of tries at once.", wait)).error(),
            wait);
      }
      auto result = control_.AcceptAup(caller, request.accept_aup());
      if (!result) {
        return fail(result.error());
      }
      response.mutable_accept_aup();
      return response;
    }
    case v1::IpcRequest::kSubscribe: {
      auto result = control_.Subscribe(caller);
      if (!result) {
        return fail(result.error());
      }
      s.subscribed = true;
      response.mutable_subscribe();
      return response;
    }
    case v1::IpcRequest::REQUEST_NOT_SET:
      break;
  }
  return fail(InvalidArgumentError("the request asks for nothing").error());
}

void ServerEngine::QueueNotice(v1::Notice notice, std::optional<std::string> only_user) {
  std::scoped_lock lock(notices_mu_);
  pending_notices_.push_back({std::move(notice), std::move(only_user)});
}

std::vector<PendingNotice> ServerEngine::TakeNotices() {
  std::vector<PendingNotice> notices;
  std::scoped_lock lock(notices_mu_);
  notices.swap(pending_notices_);
  return notices;
}

void ServerEngine::Deliver(Session& s, const PendingNotice& pending, SteadyTime now) {
  if (!s.subscribed || s.closing ||
      (pending.only_user.has_value() && *pending.only_user != s.caller.user_id)) {
    return;
  }
  v1::IpcServerMessage message;
  *message.mutable_notice() = pending.notice;
  Send(s, message, now);
}

bool ServerEngine::Expired(Session& s, SteadyTime now) {
  if (s.HasOutput() && now - s.output_since > options_.slow_client_timeout) {
    log::Warning("ipc client too slow to read; closing",
                 {{"user", s.caller.user_id}, {"pid", s.caller.process_id}});
    return true;
  }
  if (s.closing) {
    return !s.HasOutput();
  }
  if (s.decoder.HasPartialFrame() && now - s.partial_since > options_.slow_client_timeout) {
    log::Warning("ipc client too slow to send a request; closing",
                 {{"user", s.caller.user_id}, {"pid", s.caller.process_id}});
    SendError(s, 0, DeadlineExceededError("the request did not arrive in time; closing").error(),
              now);
    s.closing = true;
    return !s.HasOutput();
  }
  return !s.subscribed && !s.decoder.HasPartialFrame() &&
         now - s.last_activity > options_.idle_timeout;
}

// Until the next deadline, or none: an idle server, with or without a subscribed tray, sleeps
// until a client, a notice or Stop() wakes it.
std::optional<SteadyTime> ServerEngine::NextDeadline(const Session& s) const {
  auto next = SteadyTime::max();
  if (s.HasOutput()) {
    next = std::min(next, s.output_since + options_.slow_client_timeout);
  }
  if (s.decoder.HasPartialFrame()) {
    next = std::min(next, s.partial_since + options_.slow_client_timeout);
  } else if (!s.subscribed) {
    next = std::min(next, s.last_activity + options_.idle_timeout);
  }
  if (next == SteadyTime::max()) {
    return std::nullopt;
  }
  return next;
}

int WaitMs(std::optional<SteadyTime> deadline, SteadyTime now) {
  if (!deadline.has_value()) {
    return -1;
  }
  const auto ms = std::chrono::ceil<std::chrono::milliseconds>(*deadline - now).count();
  return static_cast<int>(std::clamp<std::int64_t>(ms, 0, 3'600'000)) + 1;
}

}  // namespace ward::agent::ipc::internal
