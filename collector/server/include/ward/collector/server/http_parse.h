// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

namespace ward::collector {

struct HttpRequest {
  std::string method;
  std::string path;                            // without the query string
  std::string query;                           // after '?', undecoded
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;
  std::string peer;  // "127.0.0.1:51234"

  // The header's value, or "" when absent. `name` must be lower case.
  const std::string& Header(const std::string& name) const;
};

// The outcome of parsing the front of a connection's input buffer.
struct HttpParse {
  enum class Outcome : std::uint8_t { kIncomplete, kComplete, kError };
  Outcome outcome = Outcome::kIncomplete;
  HttpRequest request;       // when kComplete
  std::size_t consumed = 0;  // bytes of the buffer the request used, when kComplete
  bool keep_alive = true;
  int error_status = 0;  // when kError: 400, 411, 413 or 431
  std::string error_message;
  // When the head is in (kComplete, or kIncomplete waiting for the body): its size including
  // the blank line, and the body's announced length.
  bool head_complete = false;
  std::size_t head_bytes = 0;
  std::size_t content_length = 0;
};

// Parses one HTTP/1.1 request (request line, headers, Content-Length body) from the start of
// `buffer`, which holds untrusted bytes. kIncomplete asks for more bytes; kError carries the
// status to answer before closing. Framing follows RFC 9112 strictly: CRLF line ends only (a bare
// CR or LF is 400), no obsolete line folding, no space before a header's colon, one
// Content-Length at most, versions HTTP/1.0 and HTTP/1.1 only; Transfer-Encoding is 411. The
// head (request line, headers and the blank line) may be `max_header_bytes` long, 431 past it;
// a Content-Length over `max_body_bytes` is 413 as soon as the head is in.
// Split-invariant: if the result for a buffer is kComplete or kError, the result for any longer
// buffer that starts with it is the same, so how the bytes arrive never matters. Pure;
// thread-safe. The tokenising is Boost.Beast's request parser.
HttpParse ParseHttpRequest(std::string_view buffer, std::size_t max_header_bytes,
                           std::size_t max_body_bytes);

}  // namespace ward::collector
