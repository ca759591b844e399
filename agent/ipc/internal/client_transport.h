// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "ward/common/result.h"

namespace ward::agent::ipc::internal {

using Deadline = std::chrono::steady_clock::time_point;

// Milliseconds left until `deadline`, from 0 to a minute.
inline int RemainingMs(Deadline deadline) {
  const auto left =
      std::chrono::ceil<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
  return static_cast<int>(std::clamp<std::int64_t>(left.count(), 0, 60'000));
}

// The OS half of IpcClient: one connection to the agent, moving bytes. One implementation per
// OS, picked by CMake: client_transport_posix.cpp (Unix socket), client_transport_windows.cpp
// (named pipe). On any error other than kDeadlineExceeded while reading, the connection is
// closed (connected() turns false). Confined to one thread at a time.
class ClientTransport {
 public:
  virtual ~ClientTransport() = default;
  // Writes all of `bytes` by `deadline`, appending what arrives meanwhile to `received` (so
  // neither side's buffer stays full). kDeadlineExceeded (the connection is then closed: half a
  // frame may be on the wire), kUnavailable when the agent is gone.
  virtual ward::Status WriteAll(std::string_view bytes, Deadline deadline,
                                std::string& received) = 0;
  // Appends what has arrived to `received`, waiting at most `wait` for the first bytes (none
  // arriving is not an error). kUnavailable when the agent closed the connection.
  virtual ward::Status ReadSome(std::chrono::milliseconds wait, std::string& received) = 0;
  virtual void Close() = 0;
  virtual bool connected() const = 0;
  // Linux: the socket; Windows: an event HANDLE set while received data waits; -1 when closed.
  virtual std::intptr_t native_handle() const = 0;
};

// kUnavailable when nothing listens there or the agent is busy; waits at most `timeout`.
Result<std::unique_ptr<ClientTransport>> ConnectTransport(const std::filesystem::path& endpoint,
                                                          std::chrono::milliseconds timeout);

}  // namespace ward::agent::ipc::internal
