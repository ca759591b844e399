// SPDX-License-Identifier: Apache-2.0
#include "ward/agent/ipc/frame.h"

#include <cstring>
#include <string>

namespace ward::agent::ipc {

Result<std::string> EncodeFrame(const google::protobuf::MessageLite& message,
                                std::size_t max_bytes) {
  const std::size_t size = message.ByteSizeLong();
  if (size > max_bytes) {
    return InvalidArgumentError("message of " + std::to_string(size) +
                                " bytes is over the limit of " + std::to_string(max_bytes));
  }
  std::string frame(kFrameHeaderBytes + size, '\0');
  const auto n = static_cast<std::uint32_t>(size);
  frame[0] = static_cast<char>((n >> 24) & 0xFFu);
  frame[1] = static_cast<char>((n >> 16) & 0xFFu);
  frame[2] = static_cast<char>((n >> 8) & 0xFFu);
  frame[3] = static_cast<char>(n & 0xFFu);
  if (!message.SerializeToArray(frame.data() + kFrameHeaderBytes, static_cast<int>(size))) {
    return InternalError("could not serialise the message");
  }
  return frame;
}

ward::Status FrameDecoder::Feed(std::span<const std::byte> bytes) {
  return Feed(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
}

ward::Status FrameDecoder::Feed(std::string_view bytes) {
  if (failed_) {
    return InvalidArgumentError("the stream is no longer framed");
  }
  buffer_.append(bytes);
  while (buffer_.size() >= kFrameHeaderBytes) {
    const auto* b = reinterpret_cast<const unsigned char*>(buffer_.data());
    const std::size_t length = (std::size_t{b[0]} << 24) | (std::size_t{b[1]} << 16) |
                               (std::size_t{b[2]} << 8) | std::size_t{b[3]};
    if (length > max_frame_bytes_) {
      failed_ = true;
      buffer_.clear();
      buffer_.shrink_to_fit();
      return InvalidArgumentError("frame of " + std::to_string(length) +
                                  " bytes is over the limit of " +
                                  std::to_string(max_frame_bytes_));
    }
    if (buffer_.size() < kFrameHeaderBytes + length) {
      break;
    }
    ready_.push_back(buffer_.substr(kFrameHeaderBytes, length));
    buffer_.erase(0, kFrameHeaderBytes + length);
  }
  return OkStatus();
}

bool FrameDecoder::Next(std::string& payload) {
  if (ready_.empty()) {
    return false;
  }
  payload = std::move(ready_.front());
  ready_.pop_front();
  return true;
}

Result<v1::IpcRequest> ParseRequest(std::string_view payload) {
  v1::IpcRequest request;
  if (!request.ParseFromArray(payload.data(), static_cast<int>(payload.size()))) {
    return InvalidArgumentError("the request is not a valid IpcRequest message");
  }
  if (request.request_case() == v1::IpcRequest::REQUEST_NOT_SET) {
    return InvalidArgumentError("the request asks for nothing (no known request field is set)");
  }
  if (request.request_case() != v1::IpcRequest::kSubmitConcern &&
      payload.size() > kMaxSmallRequestBytes) {
    return InvalidArgumentError("request of " + std::to_string(payload.size()) +
                                " bytes is over the limit of " +
                                std::to_string(kMaxSmallRequestBytes) + " for this kind");
  }
  return request;
}

}  // namespace ward::agent::ipc
