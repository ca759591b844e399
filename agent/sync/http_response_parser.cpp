// SPDX-License-Identifier: Apache-2.0
// The collector's answers are untrusted bytes: every field is checked against RFC 9112's grammar
// and every buffer is bounded before it grows.
#include "ward/agent/sync/http_response_parser.h"

#include <algorithm>
#include <charconv>

namespace ward::agent::sync {
namespace {

constexpr std::size_t kMaxChunkLine = 1024;  // chunk size plus extensions

bool IsTokenChar(unsigned char c) {
  if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
    return true;
  }
  return std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) != std::string_view::npos;
}

// Field values and reason phrases: visible ASCII, obs-text, space and tab; no controls.
bool IsTextChar(unsigned char c) { return c == '\t' || (c >= 0x20 && c != 0x7f); }

char Lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

std::string LowerCopy(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), Lower);
  return out;
}

std::string_view TrimOws(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) {
    s.remove_suffix(1);
  }
  return s;
}

std::optional<std::uint64_t> ParseDecimal(std::string_view s) {
  if (s.empty() || s.size() > 19 ||
      !std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return std::nullopt;
  }
  std::uint64_t value = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc() || end != s.data() + s.size()) {
    return std::nullopt;
  }
  return value;
}

// Appends bytes of `in` to `line` until it ends with `terminator` or holds `max` bytes; returns
// how many were taken.
std::size_t Gather(std::string& line, std::string_view in, std::string_view terminator,
                   std::size_t max, bool& complete) {
  std::size_t used = 0;
  complete = line.ends_with(terminator);
  while (!complete && used < in.size() && line.size() < max) {
    line.push_back(in[used++]);
    complete = line.ends_with(terminator);
  }
  return used;
}

}  // namespace

std::optional<std::string_view> HttpResponseHead::Find(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (key == name) {
      return std::string_view(value);
    }
  }
  return std::nullopt;
}

HttpResponseParser::HttpResponseParser(HttpResponseLimits limits) : limits_(limits) {}

std::unexpected<Error> HttpResponseParser::Fail(ErrorCode code, std::string message) {
  state_ = State::kFailed;
  line_.clear();
  body_.clear();
  return MakeError(code, std::move(message));
}

Result<std::size_t> HttpResponseParser::Feed(std::string_view data) {
  if (state_ == State::kFailed) {
    return MakeError(ErrorCode::kInvalidArgument, "the answer was already malformed");
  }
  std::size_t used = 0;
  while (used < data.size() && state_ != State::kDone) {
    const std::string_view in = data.substr(used);
    bool complete = false;
    switch (state_) {
      case State::kHead: {
        used += Gather(line_, in, "\r\n\r\n", limits_.max_head_bytes, complete);
        if (!complete) {
          if (line_.size() >= limits_.max_head_bytes) {
            return Fail(ErrorCode::kResourceExhausted, "the answer's headers are larger than " +
                                                           std::to_string(limits_.max_head_bytes) +
                                                           " bytes");
          }
          break;
        }
        const std::string head = std::move(line_);
        line_.clear();
        WARD_RETURN_IF_ERROR(ParseHead(head));
        if (head_.status >= 100 && head_.status < 200) {
          if (head_.status == 101) {
            return Fail(ErrorCode::kInvalidArgument, "the collector switched protocols unasked");
          }
          head_ = HttpResponseHead{};  // an interim answer (100 Continue): the real one follows
          break;
        }
        WARD_RETURN_IF_ERROR(StartBody());
        break;
      }
      case State::kBodyLength: {
        WARD_ASSIGN_OR_RETURN(const std::size_t take, TakeCounted(in, State::kDone));
        used += take;
        break;
      }
      case State::kBodyToEof:
        WARD_RETURN_IF_ERROR(AppendBody(in));
        used += in.size();
        break;
      case State::kChunkSize: {
        used += Gather(line_, in, "\r\n", kMaxChunkLine, complete);
        if (!complete) {
          if (line_.size() >= kMaxChunkLine) {
            return Fail(ErrorCode::kInvalidArgument, "a chunk size line is too long");
          }
          break;
        }
        std::string_view text(line_);
        text.remove_suffix(2);
        std::size_t digits = 0;
        std::uint64_t size = 0;
        while (digits < text.size()) {
          const char c = Lower(text[digits]);
          int v = -1;
          if (c >= '0' && c <= '9') {
            v = c - '0';
          } else if (c >= 'a' && c <= 'f') {
            v = c - 'a' + 10;
          }
          if (v < 0) {
            break;
          }
          if (size > (limits_.max_body_bytes >> 4)) {
            return Fail(ErrorCode::kResourceExhausted, "the answer is too large (more than " +
                                                           std::to_string(limits_.max_body_bytes) +
                                                           " bytes)");
          }
          size = size * 16 + static_cast<std::uint64_t>(v);
          ++digits;
        }
        // After the size only chunk extensions (`;name=value`), which carry nothing for us.
        const std::string_view rest = TrimOws(text.substr(digits));
        if (digits == 0 || (!rest.empty() && rest.front() != ';') ||
            !std::all_of(rest.begin(), rest.end(),
                         [](char c) { return IsTextChar(static_cast<unsigned char>(c)); })) {
          return Fail(ErrorCode::kInvalidArgument, "a chunk size is malformed");
        }
        line_.clear();
        if (size == 0) {
          line_ = "\r\n";  // so that an empty trailer section ends at the next CRLF
          state_ = State::kTrailers;
        } else if (size > limits_.max_body_bytes - body_.size()) {
          return Fail(ErrorCode::kResourceExhausted, "the answer is too large (more than " +
                                                         std::to_string(limits_.max_body_bytes) +
                                                         " bytes)");
        } else {
          remaining_ = size;
          state_ = State::kChunkData;
        }
        break;
      }
      case State::kChunkData: {
        WARD_ASSIGN_OR_RETURN(const std::size_t take, TakeCounted(in, State::kChunkDataEnd));
        used += take;
        break;
      }
      case State::kChunkDataEnd:
        used += Gather(line_, in, "\r\n", 2, complete);
        if (line_.size() == 2) {
          if (!complete) {
            return Fail(ErrorCode::kInvalidArgument, "a chunk does not end with CRLF");
          }
          line_.clear();
          state_ = State::kChunkSize;
        }
        break;
      case State::kTrailers: {
        used += Gather(line_, in, "\r\n\r\n", limits_.max_head_bytes, complete);
        if (!complete) {
          if (line_.size() >= limits_.max_head_bytes) {
            return Fail(ErrorCode::kResourceExhausted, "the answer's trailers are larger than " +
                                                           std::to_string(limits_.max_head_bytes) +
                                                           " bytes");
          }
          break;
        }
        // Trailer fields are ignored, but they must still be well formed.
        std::string_view fields(line_);
        fields = fields.substr(2, fields.size() - 4);
        while (!fields.empty()) {
          const std::size_t end = fields.find("\r\n");
          const std::string_view field = fields.substr(0, end);
          const std::size_t colon = field.find(':');
          if (colon == 0 || colon == std::string_view::npos ||
              !std::all_of(field.begin(), field.begin() + static_cast<std::ptrdiff_t>(colon),
                           [](char c) { return IsTokenChar(static_cast<unsigned char>(c)); }) ||
              !std::all_of(field.begin() + static_cast<std::ptrdiff_t>(colon), field.end(),
                           [](char c) { return IsTextChar(static_cast<unsigned char>(c)); })) {
            return Fail(ErrorCode::kInvalidArgument, "a trailer field is malformed");
          }
          fields = end == std::string_view::npos ? std::string_view() : fields.substr(end + 2);
        }
        line_.clear();
        state_ = State::kDone;
        break;
      }
      case State::kDone:
      case State::kFailed:
        break;
    }
  }
  return used;
}

Status HttpResponseParser::FinishAtEof() {
  if (state_ == State::kBodyToEof) {
    state_ = State::kDone;
  }
  if (state_ == State::kDone) {
    return OkStatus();
  }
  if (state_ == State::kHead && line_.empty()) {
    return Fail(ErrorCode::kInvalidArgument,
                "the collector closed the connection without an answer");
  }
  return Fail(ErrorCode::kInvalidArgument,
              "the collector closed the connection before the answer was complete");
}

Status HttpResponseParser::ParseHead(std::string_view head) {
  // `head` ends with CRLF CRLF; every line of it ends with CRLF.
  head.remove_suffix(2);
  std::size_t end = head.find("\r\n");
  const std::string_view status_line = head.substr(0, end);
  head.remove_prefix(end + 2);

  // HTTP/1.x SP 3DIGIT [SP reason-phrase]
  if (status_line.size() < 12 || !status_line.starts_with("HTTP/1.") ||
      (status_line[7] != '0' && status_line[7] != '1') || status_line[8] != ' ' ||
      status_line[9] < '1' || status_line[9] > '5' || status_line[10] < '0' ||
      status_line[10] > '9' || status_line[11] < '0' || status_line[11] > '9' ||
      (status_line.size() > 12 && status_line[12] != ' ') ||
      !std::all_of(status_line.begin(), status_line.end(),
                   [](char c) { return IsTextChar(static_cast<unsigned char>(c)); })) {
    return Fail(ErrorCode::kInvalidArgument, "the answer's status line is malformed");
  }
  head_.minor_version = status_line[7] - '0';
  head_.status =
      (status_line[9] - '0') * 100 + (status_line[10] - '0') * 10 + (status_line[11] - '0');
  head_.keep_alive = head_.minor_version == 1;

  bool saw_keep_alive = false;
  bool saw_close = false;
  bool saw_transfer_encoding = false;
  while (!head.empty()) {
    end = head.find("\r\n");
    const std::string_view line = head.substr(0, end);
    head.remove_prefix(end + 2);
    if (head_.headers.size() >= limits_.max_headers) {
      return Fail(ErrorCode::kResourceExhausted,
                  "the answer has more than " + std::to_string(limits_.max_headers) + " headers");
    }
    const std::size_t colon = line.find(':');
    if (colon == 0 || colon == std::string_view::npos) {
      // Includes obsolete line folding (a line starting with a space), which RFC 9112 lets a
      // client reject.
      return Fail(ErrorCode::kInvalidArgument, "a header of the answer is malformed");
    }
    const std::string_view name = line.substr(0, colon);
    const std::string_view value = TrimOws(line.substr(colon + 1));
    if (!std::all_of(name.begin(), name.end(),
                     [](char c) { return IsTokenChar(static_cast<unsigned char>(c)); }) ||
        !std::all_of(value.begin(), value.end(),
                     [](char c) { return IsTextChar(static_cast<unsigned char>(c)); })) {
      return Fail(ErrorCode::kInvalidArgument, "a header of the answer is malformed");
    }
    std::string lower_name = LowerCopy(name);
    if (lower_name == "content-length") {
      const auto length = ParseDecimal(value);
      if (!length.has_value() ||
          (head_.content_length.has_value() && *head_.content_length != *length)) {
        return Fail(ErrorCode::kInvalidArgument, "the answer's Content-Length is malformed");
      }
      head_.content_length = length;
    } else if (lower_name == "transfer-encoding") {
      if (saw_transfer_encoding || LowerCopy(value) != "chunked") {
        return Fail(ErrorCode::kInvalidArgument,
                    "the answer uses a transfer coding other than chunked");
      }
      saw_transfer_encoding = true;
    } else if (lower_name == "connection") {
      std::string_view options = value;
      while (!options.empty()) {
        const std::size_t comma = options.find(',');
        const std::string option = LowerCopy(TrimOws(options.substr(0, comma)));
        saw_close = saw_close || option == "close";
        saw_keep_alive = saw_keep_alive || option == "keep-alive";
        options = comma == std::string_view::npos ? std::string_view() : options.substr(comma + 1);
      }
    }
    head_.headers.emplace_back(std::move(lower_name), std::string(value));
  }
  if (saw_transfer_encoding && head_.content_length.has_value()) {
    return Fail(ErrorCode::kInvalidArgument,
                "the answer has both Content-Length and Transfer-Encoding");
  }
  head_.chunked = saw_transfer_encoding;
  if (saw_close) {
    head_.keep_alive = false;
  } else if (saw_keep_alive) {
    head_.keep_alive = true;
  }
  return OkStatus();
}

Status HttpResponseParser::StartBody() {
  if (head_.status == 204 || head_.status == 304) {
    state_ = State::kDone;
  } else if (head_.chunked) {
    state_ = State::kChunkSize;
  } else if (head_.content_length.has_value()) {
    if (*head_.content_length > limits_.max_body_bytes) {
      return Fail(ErrorCode::kResourceExhausted,
                  "the answer is larger than " + std::to_string(limits_.max_body_bytes) + " bytes");
    }
    remaining_ = *head_.content_length;
    // Grows as bytes arrive: a hostile length alone allocates little.
    body_.reserve(static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, 1 << 20)));
    state_ = remaining_ == 0 ? State::kDone : State::kBodyLength;
  } else {
    head_.keep_alive = false;  // the body runs to the end of the connection
    state_ = State::kBodyToEof;
  }
  return OkStatus();
}

Result<std::size_t> HttpResponseParser::TakeCounted(std::string_view in, State next) {
  const auto take = static_cast<std::size_t>(std::min<std::uint64_t>(in.size(), remaining_));
  WARD_RETURN_IF_ERROR(AppendBody(in.substr(0, take)));
  remaining_ -= take;
  if (remaining_ == 0) {
    state_ = next;
  }
  return take;
}

Status HttpResponseParser::AppendBody(std::string_view bytes) {
  if (bytes.size() > limits_.max_body_bytes - body_.size()) {
    return Fail(
        ErrorCode::kResourceExhausted,
        "the answer is too large (more than " + std::to_string(limits_.max_body_bytes) + " bytes)");
  }
  body_.append(bytes);
  return OkStatus();
}

std::optional<std::chrono::seconds> ParseRetryAfter(std::string_view value) {
  const auto seconds = ParseDecimal(TrimOws(value));
  if (!seconds.has_value() ||
      *seconds > static_cast<std::uint64_t>(std::chrono::seconds::max().count())) {
    return std::nullopt;  // an HTTP date or junk: the caller's own backoff applies
  }
  return std::chrono::seconds(static_cast<std::chrono::seconds::rep>(*seconds));
}

}  // namespace ward::agent::sync
