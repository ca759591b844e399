// SPDX-License-Identifier: Apache-2.0
#include "ward/agent/sync/http_response_parser.h"

#include <string>

#include <gtest/gtest.h>

namespace ward::agent::sync {
namespace {

using namespace std::chrono_literals;

// Feeds `bytes` in pieces of `step` (every split point must give the same result).
Status FeedAll(HttpResponseParser& p, std::string_view bytes, std::size_t step,
               std::size_t* used_total = nullptr) {
  std::size_t total = 0;
  while (!bytes.empty() && !p.done()) {
    auto used = p.Feed(bytes.substr(0, std::min(step, bytes.size())));
    if (!used.has_value()) {
      return std::unexpected(used.error());
    }
    total += *used;
    bytes.remove_prefix(*used);
  }
  if (used_total != nullptr) {
    *used_total = total;
  }
  return OkStatus();
}

const std::string kCollectorAnswer =
    "HTTP/1.1 200 OK\r\nContent-Type: application/x-protobuf\r\nContent-Length: 5\r\n"
    "Connection: keep-alive\r\nRetry-After: 3\r\n\r\nhello";

TEST(HttpResponseParserTest, ParsesTheCollectorsAnswerAtEverySplit) {
  for (std::size_t step :
       {std::size_t{1}, std::size_t{2}, std::size_t{7}, kCollectorAnswer.size()}) {
    HttpResponseParser p;
    ASSERT_TRUE(FeedAll(p, kCollectorAnswer, step).has_value()) << step;
    ASSERT_TRUE(p.done()) << step;
    EXPECT_EQ(p.head().status, 200);
    EXPECT_EQ(p.head().content_length, std::optional<std::uint64_t>(5));
    EXPECT_TRUE(p.head().keep_alive);
    EXPECT_EQ(p.head().Find("content-type"),
              std::optional<std::string_view>("application/x-protobuf"));
    EXPECT_EQ(p.head().Find("retry-after"), std::optional<std::string_view>("3"));
    EXPECT_EQ(p.body(), "hello");
  }
}

TEST(HttpResponseParserTest, LeavesBytesAfterTheAnswerUnconsumed) {
  HttpResponseParser p;
  std::size_t used = 0;
  const std::string two = kCollectorAnswer + "HTTP/1.1 200 OK\r\n";
  ASSERT_TRUE(FeedAll(p, two, two.size(), &used).has_value());
  EXPECT_TRUE(p.done());
  EXPECT_EQ(used, kCollectorAnswer.size());
}

TEST(HttpResponseParserTest, ChunkedBodyWithExtensionsAndTrailers) {
  const std::string bytes =
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: Chunked\r\n\r\n"
      "5;ext=1\r\nhello\r\nA \r\n, world!!!\r\n0\r\nX-Sum: 9\r\nX-Other: a\r\n\r\n";
  for (std::size_t step : {std::size_t{1}, std::size_t{3}, bytes.size()}) {
    HttpResponseParser p;
    ASSERT_TRUE(FeedAll(p, bytes, step).has_value()) << step;
    ASSERT_TRUE(p.done());
    EXPECT_TRUE(p.head().chunked);
    EXPECT_TRUE(p.head().keep_alive);
    EXPECT_EQ(p.body(), "hello, world!!!");
  }
}

TEST(HttpResponseParserTest, ChunkedBodyWithoutTrailers) {
  HttpResponseParser p;
  ASSERT_TRUE(
      FeedAll(p, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 1).has_value());
  EXPECT_TRUE(p.done());
  EXPECT_EQ(p.body(), "");
}

TEST(HttpResponseParserTest, InterimAnswerIsSkipped) {
  HttpResponseParser p;
  ASSERT_TRUE(FeedAll(p, "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\nX: y\r\n\r\n", 4)
                  .has_value());
  ASSERT_TRUE(p.done());
  EXPECT_EQ(p.head().status, 204);
  ASSERT_EQ(p.head().headers.size(), 1u);
}

TEST(HttpResponseParserTest, ConnectionCloseAndHttp10AreNotKeptAlive) {
  HttpResponseParser close;
  ASSERT_TRUE(
      FeedAll(close,
              "HTTP/1.1 200 OK\r\nConnection: Keep-Alive, Close\r\nContent-Length: 0\r\n\r\n", 5)
          .has_value());
  EXPECT_TRUE(close.done());
  EXPECT_FALSE(close.head().keep_alive);
  HttpResponseParser old;
  ASSERT_TRUE(FeedAll(old, "HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n", 5).has_value());
  EXPECT_FALSE(old.head().keep_alive);
  HttpResponseParser old_kept;
  ASSERT_TRUE(
      FeedAll(old_kept, "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n", 5)
          .has_value());
  EXPECT_TRUE(old_kept.head().keep_alive);
}

TEST(HttpResponseParserTest, BodyWithoutLengthRunsToTheEndOfTheConnection) {
  HttpResponseParser p;
  ASSERT_TRUE(FeedAll(p, "HTTP/1.1 200 OK\r\n\r\nall of it", 4).has_value());
  EXPECT_FALSE(p.done());
  ASSERT_TRUE(p.FinishAtEof().has_value());
  EXPECT_TRUE(p.done());
  EXPECT_FALSE(p.head().keep_alive);
  EXPECT_EQ(p.body(), "all of it");
}

TEST(HttpResponseParserTest, EndOfConnectionBeforeTheEndIsAnError) {
  for (const char* cut :
       {"", "HTTP/1.1 200 OK\r\n", "HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nabc",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab"}) {
    HttpResponseParser p;
    ASSERT_TRUE(FeedAll(p, cut, 3).has_value()) << cut;
    auto end = p.FinishAtEof();
    ASSERT_FALSE(end.has_value()) << cut;
    EXPECT_EQ(end.error().code(), ErrorCode::kInvalidArgument);
    EXPECT_NE(end.error().message().find("closed"), std::string::npos) << end.error().message();
  }
}

TEST(HttpResponseParserTest, RejectsMalformedAnswers) {
  for (const char* bad : {
           "HTTP/1.1 200 OK\nContent-Length: 0\n\n\r\n\r\n",                   // bare LF
           "HTTP/2 200 OK\r\n\r\n",                                            // not 1.x
           "HTTP/1.1 20 OK\r\n\r\n",                                           // two digits
           "HTTP/1.1 600 Odd\r\n\r\n",                                         // no such class
           "HTTP/1.1 200OK\r\n\r\n",                                           // no space
           "HTTP/1.1 200 O\x01K\r\n\r\n",                                      // control in reason
           "HTTP/1.1 101 Switching\r\n\r\n",                                   // never asked for
           "HTTP/1.1 200 OK\r\n folded: x\r\n\r\n",                            // obs-fold
           "HTTP/1.1 200 OK\r\nNo colon\r\n\r\n",                              // no colon
           "HTTP/1.1 200 OK\r\n: empty name\r\n\r\n",                          // empty name
           "HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n",                           // space in name
           "HTTP/1.1 200 OK\r\nX: a\x7f\r\n\r\n",                              // DEL in value
           "HTTP/1.1 200 OK\r\nX: a\rb\r\n\r\n",                               // bare CR
           "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",                    // negative
           "HTTP/1.1 200 OK\r\nContent-Length: 1, 1\r\n\r\n",                  // a list
           "HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n",  // overflow
           "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
           "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
           "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n",
           "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",  // not hex
           "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n;x\r\n",  // no size
           "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2 junk\r\n",
           "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabXY",  // no CRLF
           "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nno colon\r\n\r\n",
       }) {
    HttpResponseParser p;
    auto r = FeedAll(p, bad, 1);
    ASSERT_FALSE(r.has_value()) << bad;
    EXPECT_EQ(r.error().code(), ErrorCode::kInvalidArgument) << bad << ": " << r.error().message();
    // Unusable afterwards.
    EXPECT_FALSE(p.Feed("HTTP/1.1 200 OK\r\n\r\n").has_value());
  }
}

TEST(HttpResponseParserTest, LimitsAreResourceExhausted) {
  HttpResponseLimits limits;
  limits.max_head_bytes = 64;
  limits.max_headers = 3;
  limits.max_body_bytes = 10;
  const std::string cases[] = {
      "HTTP/1.1 200 OK\r\nX-Long: " + std::string(100, 'a') + "\r\n\r\n",
      "HTTP/1.1 200 OK\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n",
      "HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\n",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nabcdef\r\n5\r\n",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffffff\r\n",
      "HTTP/1.1 200 OK\r\n\r\n" + std::string(11, 'x'),
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nT: " + std::string(80, 't'),
  };
  for (const auto& bytes : cases) {
    HttpResponseParser p(limits);
    auto r = FeedAll(p, bytes, 5);
    ASSERT_FALSE(r.has_value()) << bytes;
    EXPECT_EQ(r.error().code(), ErrorCode::kResourceExhausted)
        << bytes << ": " << r.error().message();
  }
  HttpResponseParser at_limit(limits);
  ASSERT_TRUE(
      FeedAll(at_limit, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n0123456789", 4).has_value());
  EXPECT_TRUE(at_limit.done());
  HttpResponseParser length(limits);
  auto r = FeedAll(length, "HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\n", 100);
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message().find("larger than 10 bytes"), std::string::npos);
}

TEST(HttpResponseParserTest, RetryAfterIsDeltaSecondsOnly) {
  EXPECT_EQ(ParseRetryAfter("120"), std::optional<std::chrono::seconds>(120s));
  EXPECT_EQ(ParseRetryAfter(" 0 "), std::optional<std::chrono::seconds>(0s));
  EXPECT_EQ(ParseRetryAfter("Wed, 21 Oct 2026 07:28:00 GMT"), std::nullopt);
  EXPECT_EQ(ParseRetryAfter("-5"), std::nullopt);
  EXPECT_EQ(ParseRetryAfter("5s"), std::nullopt);
  EXPECT_EQ(ParseRetryAfter(""), std::nullopt);
  EXPECT_EQ(ParseRetryAfter("99999999999999999999999"), std::nullopt);
}

}  // namespace
}  // namespace ward::agent::sync
