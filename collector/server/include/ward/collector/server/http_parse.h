// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstddef>
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
};

// Parses one HTTP/1.1 request (request line, headers, Content-Length body) from the start of
// `buffer`, which holds untrusted bytes. kIncomplete asks for more bytes; kError carries the
// status to answer before closing. A Content-Length over `max_body_bytes` is an error as soon as
// the headers are in. Pure; thread-safe.
HttpParse ParseHttpRequest(std::string_view buffer, std::size_t max_header_bytes,
                           std::size_t max_body_bytes);

}  // namespace ward::collector
