// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstddef>
#include <memory>

#include "server_engine.h"
#include "ward/common/result.h"

namespace ward::agent::ipc::internal {

// The OS half of IpcServer: listens, accepts, asks the kernel who connected, moves bytes, and
// runs the loop thread that calls the ServerEngine for everything else. One implementation per
// OS, picked by CMake: ipc_server_posix.cpp (Unix socket, poll()), ipc_server_windows.cpp (named
// pipe, I/O completion port).
class ServerTransport {
 public:
  virtual ~ServerTransport() = default;
  // Listens on engine.options().endpoint and starts the loop thread.
  virtual ward::Status Start() = 0;
  // Stops the loop, closes every connection and the endpoint. Idempotent.
  virtual void Stop() = 0;
  // Thread-safe, never blocks: makes the loop take the queued notices.
  virtual void Wake() = 0;
  // The engine's WriteNow (loop thread only).
  virtual bool WriteNow(Session& s) = 0;
  virtual std::size_t connection_count() const = 0;
};

// `engine` must outlive the transport.
std::unique_ptr<ServerTransport> CreateServerTransport(ServerEngine& engine);

}  // namespace ward::agent::ipc::internal
