// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ward/common/result.h"

namespace ward::agent::sync {

// Bounds on one HTTP/1.1 response. The collector's answers are a few hundred bytes of head and
// at most a 32 MiB policy bundle.
struct HttpResponseLimits {
  std::size_t max_head_bytes = 16 * 1024;  // status line + headers (and chunked trailers)
  std::size_t max_headers = 64;
  std::size_t max_body_bytes = std::size_t{40} << 20;
};

// The status line and headers of a response. Value type.
struct HttpResponseHead {
  int status = 0;
  int minor_version = 1;  // HTTP/1.<minor_version>
  // In arrival order; names lower-cased, values without surrounding spaces.
  std::vector<std::pair<std::string, std::string>> headers;
  std::optional<std::uint64_t> content_length;
  bool chunked = false;
  // False after `Connection: close`, for HTTP/1.0 without `Connection: keep-alive`, and when the
  // body runs to the end of the connection.
  bool keep_alive = true;

  // The first header called `name` (lower-case), if any.
  std::optional<std::string_view> Find(std::string_view name) const;
};

// An incremental parser of one HTTP/1.1 response to a POST, from untrusted bytes: feed it what
// the socket delivered until done(). Strict: CRLF line ends, no obsolete line folding, one
// Content-Length, `chunked` as the only transfer coding, interim 1xx answers skipped.
// Errors: kInvalidArgument for malformed bytes, kResourceExhausted when a limit is exceeded; the
// parser is then unusable. Thread-compatible.
class HttpResponseParser {
 public:
  explicit HttpResponseParser(HttpResponseLimits limits = {});

  // Consumes bytes from the front of `data` and returns how many. Fewer than data.size() only
  // once done(): what is left over does not belong to this response.
  Result<std::size_t> Feed(std::string_view data);
  // The peer closed the connection. Completes a body that runs to the end of the connection;
  // kInvalidArgument (the connection closed before the answer was complete) otherwise, unless
  // done().
  Status FinishAtEof();

  bool head_done() const { return state_ > State::kHead; }
  bool done() const { return state_ == State::kDone; }
  // Valid once head_done().
  const HttpResponseHead& head() const { return head_; }
  const std::string& body() const { return body_; }
  std::string TakeBody() { return std::move(body_); }

 private:
  enum class State : std::uint8_t {
    kHead,
    kBodyLength,
    kBodyToEof,
    kChunkSize,
    kChunkData,
    kChunkDataEnd,
    kTrailers,
    kDone,
    kFailed,
  };

  Status ParseHead(std::string_view head);
  Status StartBody();
  Status AppendBody(std::string_view bytes);
  // Takes up to remaining_ bytes of a counted body or chunk; moves to `next` at its end.
  Result<std::size_t> TakeCounted(std::string_view in, State next);
  std::unexpected<Error> Fail(ErrorCode code, std::string message);

  HttpResponseLimits limits_;
  State state_ = State::kHead;
  std::string line_;  // the head, a chunk-size line or the trailers gathered so far
  HttpResponseHead head_;
  std::string body_;
  std::uint64_t remaining_ = 0;  // of the Content-Length body or of the current chunk
};

// `Retry-After` as delta-seconds ("120"); nullopt for an HTTP date, a negative or junk value.
std::optional<std::chrono::seconds> ParseRetryAfter(std::string_view value);

}  // namespace ward::agent::sync
