// SPDX-License-Identifier: Apache-2.0
#include "ward/agent/sync/collector_url.h"

#include <gtest/gtest.h>

namespace ward::agent::sync {
namespace {

TEST(CollectorUrlTest, ParsesHostPortAndBasePath) {
  auto u = ParseCollectorUrl("https://collector.example.ac.uk:8443/ward//");
  ASSERT_TRUE(u.has_value()) << u.error().ToString();
  EXPECT_EQ(u->host, "collector.example.ac.uk");
  EXPECT_FALSE(u->host_is_ip);
  EXPECT_EQ(u->port, 8443);
  EXPECT_EQ(u->base_path, "/ward");
}

TEST(CollectorUrlTest, DefaultPortIs443AndSchemeIsCaseInsensitive) {
  auto u = ParseCollectorUrl("HTTPS://10.0.0.7");
  ASSERT_TRUE(u.has_value()) << u.error().ToString();
  EXPECT_EQ(u->host, "10.0.0.7");
  EXPECT_TRUE(u->host_is_ip);
  EXPECT_EQ(u->port, 443);
  EXPECT_EQ(u->base_path, "");
}

TEST(CollectorUrlTest, BracketedIpv6) {
  auto u = ParseCollectorUrl("https://[::1]:9443/");
  ASSERT_TRUE(u.has_value()) << u.error().ToString();
  EXPECT_EQ(u->host, "::1");
  EXPECT_TRUE(u->host_is_ip);
  EXPECT_EQ(u->port, 9443);
  auto v = ParseCollectorUrl("https://[2001:db8::5]");
  ASSERT_TRUE(v.has_value()) << v.error().ToString();
  EXPECT_EQ(v->host, "2001:db8::5");
  EXPECT_EQ(v->port, 443);
}

TEST(CollectorUrlTest, RejectsAnythingElseWithTheExpectedForm) {
  for (const char* url : {"",
                          "http://h:1",
                          "https://",
                          "https://:8443",
                          "https://h:",
                          "https://h:0",
                          "https://h:65536",
                          "https://h:12x",
                          "https://h:+1",
                          "https://u@h:1",
                          "https://h:1?x",
                          "https://h:1/a#b",
                          "https://h:1/a b",
                          "https://h:1/%zz",
                          "https://h:1/%2",
                          "https://[::1",
                          "https://[::1]x",
                          "https://[::1]:",
                          "https://[fe80::1%25eth0]:1",
                          "https://[nothost]:1",
                          "https://h_1:1",
                          " https://h:1"}) {
    auto u = ParseCollectorUrl(url);
    ASSERT_FALSE(u.has_value()) << url;
    EXPECT_EQ(u.error().code(), ErrorCode::kInvalidArgument) << url;
    EXPECT_NE(u.error().message().find("must look like https://host:port, not \"" +
                                       std::string(url) + "\""),
              std::string::npos)
        << u.error().message();
  }
}

}  // namespace
}  // namespace ward::agent::sync
