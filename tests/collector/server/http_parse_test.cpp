// SPDX-License-Identifier: Apache-2.0
#include "ward/collector/server/http_parse.h"

#include <gtest/gtest.h>

namespace ward::collector {
namespace {

using Outcome = HttpParse::Outcome;

TEST(HttpParseTest, ParsesRequestWithBodyAndLeavesTheRest) {
  const std::string in =
      "POST /v1/events?x=1 HTTP/1.1\r\nHost: a\r\nAuthorization:  Bearer d.c \r\n"
      "Content-Length: 3\r\n\r\nabcGET /next";
  HttpParse p = ParseHttpRequest(in, 1024, 1024);
  ASSERT_EQ(p.outcome, Outcome::kComplete);
  EXPECT_EQ(p.request.method, "POST");
  EXPECT_EQ(p.request.path, "/v1/events");
  EXPECT_EQ(p.request.query, "x=1");
  EXPECT_EQ(p.request.Header("authorization"), "Bearer d.c");
  EXPECT_EQ(p.request.body, "abc");
  EXPECT_EQ(in.substr(p.consumed), "GET /next");
  EXPECT_TRUE(p.keep_alive);
}

TEST(HttpParseTest, AsksForMoreUntilHeadersAndBodyAreIn) {
  EXPECT_EQ(ParseHttpRequest("POST / HTTP/1.1\r\nContent-Le", 1024, 1024).outcome,
            Outcome::kIncomplete);
  EXPECT_EQ(ParseHttpRequest("POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\nab", 1024, 1024).outcome,
            Outcome::kIncomplete);
}

TEST(HttpParseTest, RefusesOversizedBodyBeforeItArrives) {
  HttpParse p = ParseHttpRequest("POST / HTTP/1.1\r\nContent-Length: 2000\r\n\r\n", 1024, 1024);
  ASSERT_EQ(p.outcome, Outcome::kError);
  EXPECT_EQ(p.error_status, 413);
}

TEST(HttpParseTest, RefusesMalformedFramingWithSpecificStatuses) {
  EXPECT_EQ(ParseHttpRequest("HELLO\r\n\r\n", 1024, 1024).error_status, 400);
  EXPECT_EQ(ParseHttpRequest("GET / HTTP/1.1\r\nno colon\r\n\r\n", 1024, 1024).error_status, 400);
  EXPECT_EQ(
      ParseHttpRequest("GET / HTTP/1.1\r\nContent-Length: 1x\r\n\r\n", 1024, 1024).error_status,
      400);
  EXPECT_EQ(ParseHttpRequest("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", 1024, 1024)
                .error_status,
            411);
  EXPECT_EQ(ParseHttpRequest(std::string(2000, 'a'), 1024, 1024).error_status, 431);
}

TEST(HttpParseTest, Http10ClosesUnlessAskedToKeepAlive) {
  EXPECT_FALSE(ParseHttpRequest("GET / HTTP/1.0\r\n\r\n", 1024, 1024).keep_alive);
  EXPECT_TRUE(
      ParseHttpRequest("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", 1024, 1024).keep_alive);
  EXPECT_FALSE(
      ParseHttpRequest("GET / HTTP/1.1\r\nConnection: close\r\n\r\n", 1024, 1024).keep_alive);
}

TEST(HttpParseTest, Regression_Issue14_Rfc9112FramingViolationsAre400) {
  const char* bad[] = {
      "POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\na",  // duplicate
      "POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
      "POST / HTTP/1.1\r\nContent-Length : 1\r\n\r\na",  // space before the colon
      "GET / HTTP/1.1\r\nX-A: 1\r\n folded\r\n\r\n",     // obsolete line folding
      "GET / HTTP/1.1\r\nX-A: 1\r\n\tfolded\r\n\r\n",
      "GET / HTTP/1.1\r\nX-A: a\nb\r\n\r\n",  // bare LF in a value
      "GET / HTTP/1.1\nHost: a\r\n\r\n",      // bare LF ending a line
      "GET / HTTP/1.1\r\nX-A: a\rb\r\n\r\n",  // bare CR
      "GET / HTTP/1.9\r\n\r\n",
      "GET / HTTP/2.0\r\n\r\n",
      "GET / HTTP/1.1\r\nAuthorization: Bearer a\r\nAuthorization: Bearer b\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
      "GET  / HTTP/1.1\r\n\r\n",
      "GET / HTTP/1.1 \r\n\r\n",
      "POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
      "POST / HTTP/1.1\r\nContent-Length: 1,1\r\n\r\na",
  };
  for (const char* in : bad) {
    HttpParse p = ParseHttpRequest(in, 1024, 1024);
    EXPECT_EQ(p.outcome, Outcome::kError) << in;
    EXPECT_EQ(p.error_status, 400) << in;
    EXPECT_FALSE(p.keep_alive) << in;
  }
}

TEST(HttpParseTest, Regression_Issue14_HeadLimitIsTheSameHoweverTheBytesArrive) {
  constexpr std::size_t kLimit = 16 * 1024;
  std::string head = "GET / HTTP/1.1\r\nX-Pad: ";
  head += std::string(kLimit - head.size() - 4, 'a');
  head += "\r\n\r\n";
  ASSERT_EQ(head.size(), kLimit);
  // In one piece, and with its last two bytes arriving separately.
  EXPECT_EQ(ParseHttpRequest(head, kLimit, 1024).outcome, Outcome::kComplete);
  EXPECT_EQ(ParseHttpRequest(head.substr(0, kLimit - 2), kLimit, 1024).outcome,
            Outcome::kIncomplete);
  // One byte longer is 431 in every chunking.
  std::string longer = head;
  longer.insert(30, "a");
  ASSERT_EQ(longer.size(), kLimit + 1);
  EXPECT_EQ(ParseHttpRequest(longer, kLimit, 1024).error_status, 431);
  EXPECT_EQ(ParseHttpRequest(longer.substr(0, kLimit), kLimit, 1024).error_status, 431);
  EXPECT_EQ(ParseHttpRequest(longer.substr(0, kLimit - 1), kLimit, 1024).outcome,
            Outcome::kIncomplete);
}

// Split invariance over every prefix: a prefix is either incomplete or gives exactly the result
// of the whole input.
TEST(HttpParseTest, Regression_Issue14_EveryPrefixAgreesWithTheWhole) {
  const std::string inputs[] = {
      "POST /v1/events HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhelloGET / HTTP/1.1",
      "GET / HTTP/1.1\r\nX-A: 1\r\n folded\r\n\r\n",
      "GET / HTTP/1.1\r\nX-A: a\nb\r\n\r\n",
      "POST / HTTP/1.1\r\nContent-Length: 2000\r\n\r\nxx",
      "GET /" + std::string(200, 'p') + " HTTP/1.1\r\n\r\n",
      "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
      // Within the limit of 128 without its blank line, over it with: one answer in any chunking.
      "GET / HTTP/1.1\r\nX-Pad: " + std::string(128 - 24, 'p') + "\r\n\r\n",
  };
  for (const std::string& in : inputs) {
    const HttpParse whole = ParseHttpRequest(in, 128, 1024);
    for (std::size_t n = 0; n <= in.size(); ++n) {
      const HttpParse part = ParseHttpRequest(std::string_view(in).substr(0, n), 128, 1024);
      if (part.outcome == Outcome::kIncomplete) {
        continue;
      }
      EXPECT_EQ(part.outcome, whole.outcome) << in << " cut at " << n;
      EXPECT_EQ(part.error_status, whole.error_status) << in << " cut at " << n;
      EXPECT_EQ(part.consumed, whole.consumed) << in << " cut at " << n;
      EXPECT_EQ(part.request.body, whole.request.body) << in << " cut at " << n;
    }
  }
}

TEST(HttpParseTest, RepeatedListHeadersAreJoined) {
  HttpParse p = ParseHttpRequest("GET / HTTP/1.1\r\nAccept: a\r\nAccept: b\r\n\r\n", 1024, 1024);
  ASSERT_EQ(p.outcome, Outcome::kComplete);
  EXPECT_EQ(p.request.Header("accept"), "a, b");
}

}  // namespace
}  // namespace ward::collector
