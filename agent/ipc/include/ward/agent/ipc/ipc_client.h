// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

#include "ward/agent/ipc/agent_control.h"
#include "ward/agent/ipc/endpoint.h"
#include "ward/agent/ipc/frame.h"
#include "ward/agent/ipc/notice_sink.h"
#include "ward/common/result.h"

namespace ward::agent::ipc {
namespace internal {
class ClientTransport;
}  // namespace internal

struct IpcClientOptions {
  // The agent's socket (Linux) or named pipe (Windows); see IpcServerOptions::endpoint.
  std::filesystem::path endpoint = DefaultEndpoint();
  // How long one request may take, end to end (a concern waits for a durable write).
  std::chrono::milliseconds request_timeout{std::chrono::seconds(15)};
};

// The tray's side: implements AgentControl by sending each call over the socket and waiting for
// its answer. The Caller argument is ignored (the agent asks the kernel). Notices that arrive,
// interleaved with answers or on their own, go to the NoticeSink given at Connect().
// Errors from the agent come back with their canonical code and message; a lost connection is
// kUnavailable, a request that ran out of time kDeadlineExceeded (the connection is then closed).
// Thread-compatible: use one client from one thread at a time. Calls block up to request_timeout,
// so a GUI must call them off its GUI thread.
class IpcClient final : public AgentControl {
 public:
  // `sink` may be null (notices are then dropped) and must outlive the client.
  static Result<std::unique_ptr<IpcClient>> Connect(IpcClientOptions options,
                                                    NoticeSink* sink = nullptr);
  ~IpcClient() override;
  IpcClient(const IpcClient&) = delete;
  IpcClient& operator=(const IpcClient&) = delete;

  Result<v1::StatusResponse> Status(const Caller& caller = {}) override;
  Result<v1::PolicySummaryResponse> PolicySummary(const Caller& caller = {}) override;
  Result<v1::SubmitConcernResponse> SubmitConcern(const Caller& caller,
                                                  const v1::SubmitConcernRequest& request) override;
  ward::Status AcceptAup(const Caller& caller, const v1::AcceptAupRequest& request) override;
  ward::Status Subscribe(const Caller& caller = {}) override;

  // Reads whatever has arrived, waiting at most `wait`, and hands notices to the sink.
  // kUnavailable when the agent closed the connection.
  ward::Status PumpNotices(std::chrono::milliseconds wait);

  // False once the connection is lost (a call or PumpNotices() returned kUnavailable, or a call
  // ran out of time); the client is then of no further use.
  bool connected() const;
  // What to wait on for notices, owned by the client; -1 once not connected. Linux: the socket
  // (a QSocketNotifier or poll()); Windows: an event HANDLE that is set while data waits, from
  // the first call or PumpNotices() on (a QWinEventNotifier or WaitForSingleObject). Then call
  // PumpNotices(0ms).
  std::intptr_t native_handle() const;

  // The retry_after_seconds of the last RESOURCE_EXHAUSTED answer (0 otherwise).
  std::uint32_t last_retry_after_seconds() const { return last_retry_after_seconds_; }

 private:
  IpcClient(IpcClientOptions options, NoticeSink* sink,
            std::unique_ptr<internal::ClientTransport> transport);
  Result<v1::IpcResponse> Call(v1::IpcRequest request);
  ward::Status ReadSome(std::chrono::milliseconds wait);
  ward::Status Feed(const std::string& received);
  ward::Status DispatchReady(std::uint64_t want_id, v1::IpcResponse* out, bool* found);

  IpcClientOptions options_;
  NoticeSink* sink_;
  std::unique_ptr<internal::ClientTransport> transport_;
  std::uint64_t next_id_ = 1;
  std::uint32_t last_retry_after_seconds_ = 0;
  FrameDecoder decoder_;
};

}  // namespace ward::agent::ipc
