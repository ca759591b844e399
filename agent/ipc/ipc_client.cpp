// SPDX-License-Identifier: Apache-2.0
#include "ward/agent/ipc/ipc_client.h"

#include <algorithm>
#include <string>

#include "internal/client_transport.h"

namespace ward::agent::ipc {
namespace {

using internal::Deadline;
using internal::RemainingMs;

ErrorCode ErrorCodeFromName(std::string_view name) {
  for (auto i = static_cast<int>(ErrorCode::kInvalidArgument);
       i <= static_cast<int>(ErrorCode::kInternal); ++i) {
    const auto code = static_cast<ErrorCode>(i);
    if (ErrorCodeName(code) == name) {
      return code;
    }
  }
  return ErrorCode::kInternal;
}

}  // namespace

Result<std::unique_ptr<IpcClient>> IpcClient::Connect(IpcClientOptions options, NoticeSink* sink) {
  WARD_ASSIGN_OR_RETURN(auto transport,
                        internal::ConnectTransport(options.endpoint, options.request_timeout));
  return std::unique_ptr<IpcClient>(new IpcClient(std::move(options), sink, std::move(transport)));
}

IpcClient::IpcClient(IpcClientOptions options, NoticeSink* sink,
                     std::unique_ptr<internal::ClientTransport> transport)
    : options_(std::move(options)), sink_(sink), transport_(std::move(transport)) {}

IpcClient::~IpcClient() = default;

bool IpcClient::connected() const { return transport_->connected(); }

std::intptr_t IpcClient::native_handle() const { return transport_->native_handle(); }

Status IpcClient::Feed(const std::string& received) {
  if (auto fed = decoder_.Feed(received); !fed) {
    transport_->Close();
    return std::unexpected(Error(ErrorCode::kUnavailable, fed.error().message()));
  }
  return OkStatus();
}

Status IpcClient::ReadSome(std::chrono::milliseconds wait) {
  if (!transport_->connected()) {
    return UnavailableError("not connected to the Ward agent");
  }
  std::string received;
  auto read = transport_->ReadSome(wait, received);
  // What arrived before the agent hung up still counts (its last answer, a notice).
  WARD_RETURN_IF_ERROR(Feed(received));
  return read;
}

Status IpcClient::DispatchReady(std::uint64_t want_id, v1::IpcResponse* out, bool* found) {
  std::string payload;
  while (decoder_.Next(payload)) {
    v1::IpcServerMessage message;
    if (!message.ParseFromString(payload)) {
      return InternalError("the Ward agent sent a message this tray cannot read");
    }
    if (message.has_notice()) {
      if (sink_ != nullptr) {
        sink_->Notify(message.notice());
      }
      continue;
    }
    if (!message.has_response()) {
      continue;
    }
    const auto& response = message.response();
    // Id 0 is the agent's answer to something it could not read: it concerns the current call.
    if (out != nullptr && !*found &&
        (response.request_id() == want_id || response.request_id() == 0)) {
      *out = response;
      *found = true;
    }
    // Answers to calls that already timed out are dropped.
  }
  return OkStatus();
}

Status IpcClient::PumpNotices(std::chrono::milliseconds wait) {
  bool found = false;
  WARD_RETURN_IF_ERROR(DispatchReady(0, nullptr, &found));
  WARD_RETURN_IF_ERROR(ReadSome(wait));
  return DispatchReady(0, nullptr, &found);
}

Result<v1::IpcResponse> IpcClient::Call(v1::IpcRequest request) {
  if (!transport_->connected()) {
    return UnavailableError("not connected to the Ward agent");
  }
  last_retry_after_seconds_ = 0;
  const std::uint64_t id = next_id_++;
  request.set_request_id(id);
  WARD_ASSIGN_OR_RETURN(const std::string frame, EncodeFrame(request));
  const Deadline deadline = std::chrono::steady_clock::now() + options_.request_timeout;
  std::string received;
  auto written = transport_->WriteAll(frame, deadline, received);
  WARD_RETURN_IF_ERROR(Feed(received));
  WARD_RETURN_IF_ERROR(written);

  v1::IpcResponse response;
  bool found = false;
  while (true) {
    WARD_RETURN_IF_ERROR(DispatchReady(id, &response, &found));
    if (found) {
      break;
    }
    const int left = RemainingMs(deadline);
    if (left == 0) {
      return DeadlineExceededError("the Ward agent did not answer in time");
    }
    WARD_RETURN_IF_ERROR(ReadSome(std::chrono::milliseconds(left)));
  }
  if (response.has_error()) {
    last_retry_after_seconds_ = response.error().retry_after_seconds();
    return std::unexpected(
        Error(ErrorCodeFromName(response.error().code()), response.error().message()));
  }
  return response;
}

Result<v1::StatusResponse> IpcClient::Status(const Caller& /*caller*/) {
  v1::IpcRequest request;
  request.mutable_status();
  WARD_ASSIGN_OR_RETURN(auto response, Call(std::move(request)));
  return response.status();
}

Result<v1::PolicySummaryResponse> IpcClient::PolicySummary(const Caller& /*caller*/) {
  v1::IpcRequest request;
  request.mutable_policy_summary();
  WARD_ASSIGN_OR_RETURN(auto response, Call(std::move(request)));
  return response.policy_summary();
}

Result<v1::SubmitConcernResponse> IpcClient::SubmitConcern(
    const Caller& /*caller*/, const v1::SubmitConcernRequest& concern) {
  v1::IpcRequest request;
  *request.mutable_submit_concern() = concern;
  WARD_ASSIGN_OR_RETURN(auto response, Call(std::move(request)));
  return response.submit_concern();
}

Status IpcClient::AcceptAup(const Caller& /*caller*/, const v1::AcceptAupRequest& accept) {
  v1::IpcRequest request;
  *request.mutable_accept_aup() = accept;
  WARD_RETURN_IF_ERROR(Call(std::move(request)));
  return OkStatus();
}

Status IpcClient::Subscribe(const Caller& /*caller*/) {
  v1::IpcRequest request;
  request.mutable_subscribe();
  WARD_RETURN_IF_ERROR(Call(std::move(request)));
  return OkStatus();
}

}  // namespace ward::agent::ipc
