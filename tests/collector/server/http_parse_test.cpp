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

}  // namespace
}  // namespace ward::collector
