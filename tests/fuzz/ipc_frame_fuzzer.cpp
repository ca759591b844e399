// SPDX-License-Identifier: Apache-2.0
// Feeds arbitrary bytes to the agent's IPC frame decoder and request parser, split into reads
// at points chosen by the input, exactly as the server does with what recv() returns.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "ward/agent/ipc/frame.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) {
    return 0;
  }
  // First byte: read size for splitting the rest (1..256 bytes per Feed).
  const std::size_t chunk = std::size_t{data[0]} + 1;
  std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
  // A small limit so oversize handling is reached often; the real limit is checked too.
  ward::agent::ipc::FrameDecoder small(4096);
  ward::agent::ipc::FrameDecoder real;
  std::string payload;
  while (!rest.empty()) {
    const auto piece = rest.substr(0, chunk);
    rest.remove_prefix(piece.size());
    const bool small_ok = small.Feed(piece).has_value();
    (void)real.Feed(piece);
    while (small.Next(payload)) {
      auto request = ward::agent::ipc::ParseRequest(payload);
      if (request) {
        // Round trip: whatever parses must encode again within the limit.
        auto frame = ward::agent::ipc::EncodeFrame(*request);
        if (!frame) {
          __builtin_trap();
        }
      }
    }
    while (real.Next(payload)) {
      (void)ward::agent::ipc::ParseRequest(payload);
    }
    if (!small_ok && small.BufferedBytes() != 0) {
      __builtin_trap();  // a failed decoder must hold nothing
    }
  }
  return 0;
}
