// SPDX-License-Identifier: Apache-2.0
// The agent's HTTP/1.1 response parser (and the small collector URL and Retry-After parsers) on
// untrusted bytes: never crashes, never consumes more than it was given, keeps to its limits,
// and gives the same answer whether the bytes arrive at once or in pieces.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "ward/agent/sync/collector_url.h"
#include "ward/agent/sync/http_response_parser.h"

namespace {

using ward::agent::sync::HttpResponseLimits;
using ward::agent::sync::HttpResponseParser;

struct Outcome {
  bool ok = false;
  bool done = false;
  std::size_t used = 0;
  int status = 0;
  std::string body;
};

Outcome Run(std::string_view in, std::size_t step, bool eof) {
  HttpResponseLimits limits;
  limits.max_head_bytes = 512;
  limits.max_headers = 16;
  limits.max_body_bytes = 1024;
  HttpResponseParser p(limits);
  Outcome o;
  while (!in.empty() && !p.done()) {
    const std::string_view piece = in.substr(0, step < in.size() ? step : in.size());
    auto used = p.Feed(piece);
    if (!used.has_value()) {
      return o;
    }
    if (*used > piece.size() || (*used < piece.size() && !p.done())) {
      std::abort();
    }
    o.used += *used;
    in.remove_prefix(*used);
  }
  if (eof && !p.FinishAtEof().has_value()) {
    return o;
  }
  o.ok = true;
  o.done = p.done();
  if (p.head_done()) {
    o.status = p.head().status;
    if (o.status < 100 || o.status > 599 || p.head().headers.size() > limits.max_headers) {
      std::abort();
    }
  }
  o.body = p.TakeBody();
  if (o.body.size() > limits.max_body_bytes) {
    std::abort();
  }
  return o;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) {
    return 0;
  }
  // The first byte picks how the rest is split and whether the connection then closes.
  const std::size_t step = (data[0] & 0x0f) + 1;
  const bool eof = (data[0] & 0x10) != 0;
  const std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  const Outcome whole = Run(in, in.size() + 1, eof);
  const Outcome split = Run(in, step, eof);
  if (whole.ok != split.ok ||
      (whole.ok && (whole.done != split.done || whole.used != split.used ||
                    whole.status != split.status || whole.body != split.body))) {
    std::abort();
  }
  (void)ward::agent::sync::ParseRetryAfter(in);
  auto url = ward::agent::sync::ParseCollectorUrl(in);
  if (url.has_value() && (url->host.empty() || url->port == 0)) {
    std::abort();
  }
  return 0;
}
