// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <span>
#include <string>

#include <google/protobuf/message_lite.h>

#include "ward/common/result.h"
#include "ward/v1/ipc.pb.h"

namespace ward::agent::ipc {

// Wire framing of ipc.proto: a 4-byte big-endian length, then that many bytes of one message.
inline constexpr std::size_t kFrameHeaderBytes = 4;
// The largest frame anyone may send: a concern with its screenshot (<= 4 MiB PNG) and text.
inline constexpr std::size_t kMaxFrameBytes = 8u * 1024 * 1024;
// The largest frame for every request that is not a concern (they are all tiny).
inline constexpr std::size_t kMaxSmallRequestBytes = 64u * 1024;

// Serialises `message` into one frame. kInvalidArgument when it is bigger than `max_bytes`.
Result<std::string> EncodeFrame(const google::protobuf::MessageLite& message,
                                std::size_t max_bytes = kMaxFrameBytes);

// Splits a byte stream into frame payloads. Feed it whatever recv() returned; take complete
// payloads with Next(). Once a header announces more than `max_frame_bytes` the decoder is
// failed for good (the stream can no longer be framed) and keeps no further bytes.
// Thread-compatible.
class FrameDecoder {
 public:
  explicit FrameDecoder(std::size_t max_frame_bytes = kMaxFrameBytes)
      : max_frame_bytes_(max_frame_bytes) {}

  // kInvalidArgument ("frame of N bytes is over the limit of M") once the stream is unusable.
  ward::Status Feed(std::span<const std::byte> bytes);
  ward::Status Feed(std::string_view bytes);

  // Pops the next complete payload; false when none is complete yet.
  bool Next(std::string& payload);

  // True while part of a frame has arrived but not all of it (the slow-client timer runs).
  bool HasPartialFrame() const { return !buffer_.empty(); }
  std::size_t BufferedBytes() const { return buffer_.size(); }

 private:
  std::size_t max_frame_bytes_;
  std::string buffer_;
  std::deque<std::string> ready_;
  bool failed_ = false;
};

// Parses and checks one request payload: it must be a well-formed IpcRequest carrying exactly
// one known request, and only a concern may be bigger than kMaxSmallRequestBytes.
// kInvalidArgument with a specific message otherwise.
Result<v1::IpcRequest> ParseRequest(std::string_view payload);

}  // namespace ward::agent::ipc
