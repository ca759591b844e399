// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <memory>
#include <string>

#include "ward/agent/ipc/agent_control.h"
#include "ward/agent/ipc/endpoint.h"
#include "ward/agent/ipc/frame.h"
#include "ward/agent/ipc/notice_sink.h"
#include "ward/agent/ipc/rate_limiter.h"
#include "ward/common/clock.h"
#include "ward/common/result.h"

namespace ward::agent::ipc {

struct IpcServerOptions {
  // Linux: the Unix socket. Its directory must exist or be creatable, be owned by the agent's
  // user and not be writable by group or others (so nobody can swap the socket); the socket itself
  // is 0666 so every learner can connect.
  // Windows: the named pipe ("\\.\pipe\<name>"). The server creates its first instance with
  // FILE_FLAG_FIRST_PIPE_INSTANCE (Start() fails if any process holds the name) and a security
  // descriptor that lets SYSTEM and Administrators do anything, interactive users connect, and
  // nobody logged on over the network in (docs/ipc.md); remote clients are rejected.
  std::filesystem::path endpoint = DefaultEndpoint();
  std::size_t max_frame_bytes = kMaxFrameBytes;
  std::size_t max_clients = 128;
  std::size_t max_clients_per_user = 16;
  // A connection that has not subscribed and sends nothing for this long is closed.
  std::chrono::milliseconds idle_timeout{std::chrono::minutes(2)};
  // A frame must arrive completely, and queued output must drain, within this time.
  std::chrono::milliseconds slow_client_timeout{std::chrono::seconds(10)};
  // Queued output per connection above this closes it (a subscriber that never reads).
  std::size_t max_output_bytes = 1u * 1024 * 1024;
  RateLimiter::Limit concern_limit{.burst = 5, .refill_every = std::chrono::minutes(2)};
  RateLimiter::Limit aup_limit{.burst = 3, .refill_every = std::chrono::minutes(1)};
};

// The agent's side of the local socket (Linux) or named pipe (Windows). One thread runs the loop
// over every connection (no thread per client: poll() on Linux, an I/O completion port on
// Windows); each request is checked (frame size, shape, per-user rate), stamped with the caller
// the kernel names (SO_PEERCRED; the pipe client's process token) and forwarded to `control` on
// that thread (a slow AgentControl call, such as a durable concern write, delays the other
// clients by that long).
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

  // Binds the socket (creates the pipe) and starts the loop thread. kFailedPrecondition when the
  // socket directory is unsafe, an OS-derived error when binding fails (Windows: kPermissionDenied
  // when another process already holds the pipe name).
  ward::Status Start();
  // Stops the loop, closes every connection and removes the socket (the pipe). Idempotent.
  void Stop();

  // To every subscribed connection (device or program blocked, policy changed).
  void Notify(v1::Notice notice) override;
  // Only to the subscribed connections of the user with this Caller::user_id (e.g. "your concern
  // was received": another user of the same laptop must not learn of it).
  void NotifyUser(std::string user_id, v1::Notice notice);

  // Connections open right now (for status and tests).
  std::size_t ConnectionCountForTesting() const;

 private:
  class Impl;
  explicit IpcServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace ward::agent::ipc
