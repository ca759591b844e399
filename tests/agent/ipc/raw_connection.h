// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "ward/agent/ipc/frame.h"

namespace ward::agent::ipc::testing {

// What a bare test connection does with bytes, whatever carries them: frames in, messages out.
// `Transport` provides `long ReadBytes(char* buf, std::size_t size, std::chrono::milliseconds
// wait)`: > 0 bytes read, 0 nothing within `wait`, < 0 the server closed the connection.
template <typename Transport>
class RawConnectionBase {
 public:
  // The next message from the server, or nullopt at the connection's end / after `wait`.
  std::optional<v1::IpcServerMessage> Read(std::chrono::milliseconds wait) {
    const auto deadline = std::chrono::steady_clock::now() + wait;
    std::string payload;
    while (!decoder_.Next(payload)) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) {
        return std::nullopt;
      }
      char buf[4096];
      const long n = static_cast<Transport*>(this)->ReadBytes(buf, sizeof(buf), left);
      if (n == 0) {
        return std::nullopt;
      }
      if (n < 0) {
        eof_ = true;
        return std::nullopt;
      }
      if (!decoder_.Feed(std::string_view(buf, static_cast<std::size_t>(n)))) {
        return std::nullopt;
      }
    }
    v1::IpcServerMessage message;
    if (!message.ParseFromString(payload)) {
      return std::nullopt;
    }
    return message;
  }

  // True once the server closed the connection (waiting at most `wait`).
  bool WaitForEof(std::chrono::milliseconds wait) {
    const auto deadline = std::chrono::steady_clock::now() + wait;
    while (!eof_ && std::chrono::steady_clock::now() < deadline) {
      (void)Read(std::chrono::milliseconds(50));
    }
    return eof_;
  }

 private:
  bool eof_ = false;
  FrameDecoder decoder_;
};

}  // namespace ward::agent::ipc::testing
