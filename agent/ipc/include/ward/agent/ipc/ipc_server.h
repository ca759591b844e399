// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <memory>

#include "ward/agent/ipc/agent_control.h"
#include "ward/agent/ipc/frame.h"
#include "ward/agent/ipc/notice_sink.h"
#include "ward/agent/ipc/rate_limiter.h"
#include "ward/common/clock.h"
#include "ward/common/result.h"

namespace ward::agent::ipc {

struct IpcServerOptions {
  // The socket. Its directory must exist or be creatable, be owned by the agent's user and not
  // be writable by group or others (so nobody can swap the socket); the socket itself is 0666
  // so every learner can connect.
  std::filesystem::path socket_path = "/run/ward/agent.sock";
  std::size_t max_frame_bytes = kMaxFrameBytes;
  std::size_t max_clients = 128;
  std::size_t max_clients_per_uid = 16;
  // A connection that has not subscribed and sends nothing for this long is closed.
  std::chrono::milliseconds idle_timeout{std::chrono::minutes(2)};
  // A frame must arrive completely, and queued output must drain, within this time.
  std::chrono::milliseconds slow_client_timeout{std::chrono::seconds(10)};
  // Queued output per connection above this closes it (a subscriber that never reads).
  std::size_t max_output_bytes = 1u * 1024 * 1024;
  RateLimiter::Limit concern_limit{.burst = 5, .refill_every = std::chrono::minutes(2)};
  RateLimiter::Limit aup_limit{.burst = 3, .refill_every = std::chrono::minutes(1)};
};

// The agent's side of the local socket. One thread runs a poll() loop over every connection
// (no thread per client); each request is checked (frame size, shape, per-user rate), stamped
// with the caller from SO_PEERCRED and forwarded to `control` on that thread (a slow
// AgentControl call, such as a durable concern write, delays the other clients by that long).
// Notify() and NotifyUser() may be called from any thread and never block: notices are queued
// and the loop sends them to subscribers. Start/Stop are not thread-safe with each other.
class IpcServer final : public NoticeSink {
 public:
  // `control` and `clock` must outlive the server.
  static Result<std::unique_ptr<IpcServer>> Create(IpcServerOptions options, AgentControl& control,
                                                   Clock& clock = SystemClock());
  ~IpcServer() override;
  IpcServer(const IpcServer&) = delete;
  IpcServer& operator=(const IpcServer&) = delete;

  // Binds the socket and starts the loop thread. kFailedPrecondition when the socket directory is
  // unsafe, an errno-derived error when binding fails.
  ward::Status Start();
  // Stops the loop, closes every connection and removes the socket. Idempotent.
  void Stop();

  // To every subscribed connection (device or program blocked, policy changed).
  void Notify(v1::Notice notice) override;
  // Only to `uid`'s subscribed connections (e.g. "your concern was received": another user of
  // the same laptop must not learn of it).
  void NotifyUser(uid_t uid, v1::Notice notice);

  // Connections open right now (for status and tests).
  std::size_t ConnectionCountForTesting() const;

 private:
  class Impl;
  explicit IpcServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace ward::agent::ipc
