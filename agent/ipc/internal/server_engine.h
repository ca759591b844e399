// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ward/agent/ipc/agent_control.h"
#include "ward/agent/ipc/frame.h"
#include "ward/agent/ipc/ipc_server.h"
#include "ward/agent/ipc/rate_limiter.h"
#include "ward/common/clock.h"

namespace ward::agent::ipc::internal {

using SteadyTime = std::chrono::steady_clock::time_point;

// One connection's protocol state, whatever carries its bytes. The transport (a Unix socket or a
// named pipe) owns it next to its OS handle, feeds it what arrived and writes out `out` from
// `out_offset`.
struct Session {
  explicit Session(std::size_t max_frame) : decoder(max_frame) {}
  bool HasOutput() const { return out_offset < out.size(); }
  // `n` bytes of `out` were written.
  void Consumed(std::size_t n);

  Caller caller;  // from the kernel, set by the transport when the connection arrives
  FrameDecoder decoder;
  std::string out;
  std::size_t out_offset = 0;
  bool subscribed = false;
  bool closing = false;  // close once `out` has drained
  bool had_partial = false;
  SteadyTime last_activity;
  SteadyTime partial_since;
  SteadyTime output_since;
};

// A notice waiting for the loop thread; `only_user` limits it to one Caller::user_id.
struct PendingNotice {
  v1::Notice notice;
  std::optional<std::string> only_user;
};

// The IPC protocol without the transport: limits, framing errors, rate limits, dispatch to the
// AgentControl, notices and timers, the same for every OS. Confined to the transport's loop
// thread, except QueueNotice() (thread-safe).
class ServerEngine {
 public:
  // Starts writing s.out now (as much as the OS takes without waiting); false when the
  // connection is broken. Called after every message queued.
  using WriteNow = std::function<bool(Session&)>;

  // `control` and `clock` must outlive the engine.
  ServerEngine(IpcServerOptions options, AgentControl& control, Clock& clock, WriteNow write_now);

  const IpcServerOptions& options() const { return options_; }

  // A new connection (its caller set). `open` and `open_for_user` count the connections already
  // served, all and of this user. Over a limit: queues the kind "busy" answer, marks the session
  // closing and returns false.
  bool Admit(Session& s, std::size_t open, std::size_t open_for_user, SteadyTime now);

  // Bytes that arrived: answers every complete request (into s.out). A stream that can no longer
  // be framed gets its error and s.closing.
  void OnBytes(Session& s, std::string_view bytes, SteadyTime now);

  // Queues one message; over max_output_bytes the output is dropped and the session closes.
  void Send(Session& s, const v1::IpcServerMessage& message, SteadyTime now);
  void SendError(Session& s, std::uint64_t request_id, const Error& error, SteadyTime now);

  // Thread-safe: queued for the loop, which takes them with TakeNotices() and hands each session
  // to Deliver().
  void QueueNotice(v1::Notice notice, std::optional<std::string> only_user);
  std::vector<PendingNotice> TakeNotices();
  void Deliver(Session& s, const PendingNotice& notice, SteadyTime now);

  // Applies the timers (a client too slow to read, or to send a whole frame; an idle connection
  // that has not subscribed). True when the session must be dropped now; a slow sender is first
  // told why (s.closing).
  bool Expired(Session& s, SteadyTime now);
  // When Expired() must next be asked for this session, if ever.
  std::optional<SteadyTime> NextDeadline(const Session& s) const;

 private:
  void HandlePayload(Session& s, std::string_view payload);
  v1::IpcResponse Dispatch(Session& s, const v1::IpcRequest& request);

  IpcServerOptions options_;
  AgentControl& control_;
  WriteNow write_now_;
  RateLimiter concern_limiter_;
  RateLimiter aup_limiter_;
  std::mutex notices_mu_;
  std::vector<PendingNotice> pending_notices_;  // guarded by notices_mu_
};

// Milliseconds from `now` until the earliest of `deadline` (none: -1, wait for ever), at least 0
// and at most an hour, rounded up so a timer is not woken early.
int WaitMs(std::optional<SteadyTime> deadline, SteadyTime now);

}  // namespace ward::agent::ipc::internal
