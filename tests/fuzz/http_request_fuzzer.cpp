// SPDX-License-Identifier: Apache-2.0
// The collector's HTTP/1.1 request parser on untrusted bytes: never crashes, never consumes more
// than it was given, and a complete request always fits its limits.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "ward/collector/server/http_parse.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  constexpr std::size_t kMaxHeader = 512;
  constexpr std::size_t kMaxBody = 1024;
  const ward::collector::HttpParse p = ward::collector::ParseHttpRequest(in, kMaxHeader, kMaxBody);
  if (p.outcome == ward::collector::HttpParse::Outcome::kComplete) {
    if (p.consumed > size || p.request.body.size() > kMaxBody) {
      std::abort();
    }
  }
  if (p.outcome == ward::collector::HttpParse::Outcome::kError && p.error_status < 400) {
    std::abort();
  }
  return 0;
}
