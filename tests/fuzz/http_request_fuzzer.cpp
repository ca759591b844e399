// SPDX-License-Identifier: Apache-2.0
// The collector's HTTP/1.1 request parser on untrusted bytes: never crashes, never consumes more
// than it was given, a complete request always fits its limits, and the result does not depend
// on how the bytes arrive (split invariance: a prefix that is not incomplete gives exactly the
// result of the whole input, as the server sees when a request arrives in pieces).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "ward/collector/server/http_parse.h"

namespace {

using ward::collector::HttpParse;

constexpr std::size_t kMaxHeader = 512;
constexpr std::size_t kMaxBody = 1024;

void Check(bool ok) {
  if (!ok) {
    std::abort();
  }
}

bool Same(const HttpParse& a, const HttpParse& b) {
  return a.outcome == b.outcome && a.error_status == b.error_status && a.consumed == b.consumed &&
         a.keep_alive == b.keep_alive && a.request.method == b.request.method &&
         a.request.path == b.request.path && a.request.query == b.request.query &&
         a.request.headers == b.request.headers && a.request.body == b.request.body;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  const HttpParse whole = ward::collector::ParseHttpRequest(in, kMaxHeader, kMaxBody);
  if (whole.outcome == HttpParse::Outcome::kComplete) {
    Check(whole.consumed <= size && whole.consumed > 0);
    Check(whole.request.body.size() <= kMaxBody);
    Check(whole.head_bytes <= kMaxHeader);
  }
  if (whole.outcome == HttpParse::Outcome::kError) {
    Check(whole.error_status >= 400 && !whole.keep_alive);
  }
  // Split invariance at a few cut points chosen by the input itself (every cut would make the
  // run quadratic): the server parses again each time bytes arrive and acts on the first result
  // that is not kIncomplete.
  std::size_t cut = size;
  for (int i = 0; i < 8 && size > 0; ++i) {
    cut = (cut * 7 + data[static_cast<std::size_t>(i) % size] + 1) % (size + 1);
    const HttpParse part =
        ward::collector::ParseHttpRequest(in.substr(0, cut), kMaxHeader, kMaxBody);
    if (part.outcome != HttpParse::Outcome::kIncomplete) {
      Check(Same(part, whole));
    }
  }
  return 0;
}
