// SPDX-License-Identifier: Apache-2.0
#include "ward/collector/server/config.h"

#include <fstream>

#include <gtest/gtest.h>

#include "ward/testing/collector_support.h"

namespace ward::collector {
namespace {

TEST(ServeConfigTest, FlagsOverrideTheFileAndDataDirSuppliesDefaults) {
  testing::TempDir dir;
  const auto file = dir.path() / "collector.conf";
  std::ofstream(file) << "# comment\nlisten = 0.0.0.0:9000\nworkers = 2  # trailing\n";
  ConfigValues v;
  ASSERT_TRUE(v.LoadFile(file).has_value());
  const std::vector<std::string> args = {"--workers", "8", "--data-dir=/srv/ward", "extra"};
  auto positional = v.ApplyFlags(args);
  ASSERT_TRUE(positional.has_value());
  EXPECT_EQ(*positional, std::vector<std::string>{"extra"});
  auto c = ResolveServeConfig(v);
  ASSERT_TRUE(c.has_value()) << c.error().ToString();
  EXPECT_EQ(c->options.listen_address, "0.0.0.0");
  EXPECT_EQ(c->options.port, 9000);
  EXPECT_EQ(c->options.worker_threads, 8);
  EXPECT_EQ(c->storage_url, "sqlite:/srv/ward/collector.db");
  EXPECT_EQ(c->options.tls_cert, "/srv/ward/server.pem");
}

TEST(ServeConfigTest, MalformedValuesNameTheKey) {
  ConfigValues v;
  v.Set("storage", "sqlite:x.db");
  v.Set("workers", "many");
  auto c = ResolveServeConfig(v);
  ASSERT_FALSE(c.has_value());
  EXPECT_NE(c.error().message().find("'workers'"), std::string::npos);
  ConfigValues no_store;
  EXPECT_FALSE(ResolveServeConfig(no_store).has_value());
}

TEST(ServeConfigTest, ConnectionsPerAddressCanBeRaisedForSitesBehindOneAddress) {
  ConfigValues v;
  v.Set("storage", "sqlite:x.db");
  auto defaults = ResolveServeConfig(v);
  ASSERT_TRUE(defaults.has_value()) << defaults.error().ToString();
  EXPECT_EQ(defaults->options.max_connections_per_address, 256u);
  v.Set("max_connections_per_address", "4000");
  auto raised = ResolveServeConfig(v);
  ASSERT_TRUE(raised.has_value()) << raised.error().ToString();
  EXPECT_EQ(raised->options.max_connections_per_address, 4000u);
  v.Set("max_connections_per_address", "0");
  auto zero = ResolveServeConfig(v);
  ASSERT_FALSE(zero.has_value());
  EXPECT_EQ(zero.error().message(), "max_connections_per_address must be at least 1");
}

TEST(ServeConfigTest, RetentionDefaultsFollowAdr0015AndEachLimitCanBeSet) {
  ConfigValues v;
  v.Set("storage", "sqlite:x.db");
  auto defaults = ResolveServeConfig(v);
  ASSERT_TRUE(defaults.has_value()) << defaults.error().ToString();
  constexpr std::int64_t kDay = RetentionLimits::kDayMs;
  const CollectorOptions& o = defaults->options;
  EXPECT_EQ(o.retention_interval, std::chrono::hours(24));
  EXPECT_EQ(o.retention_batch_rows, 1000u);
  EXPECT_EQ(o.retention.telemetry_ms, 90 * kDay);
  EXPECT_EQ(o.retention.aup_ms, 365 * kDay);
  EXPECT_EQ(o.retention.concern_ms, 12 * 365 * kDay);
  EXPECT_EQ(o.retention.audit_ms, 6 * 365 * kDay);
  EXPECT_EQ(o.retention.device_unseen_ms, 90 * kDay);
  v.Set("retention_telemetry_days", "30");
  v.Set("retention_interval_hours", "6");
  auto set = ResolveServeConfig(v);
  ASSERT_TRUE(set.has_value()) << set.error().ToString();
  EXPECT_EQ(set->options.retention.telemetry_ms, 30 * kDay);
  EXPECT_EQ(set->options.retention_interval, std::chrono::hours(6));
  v.Set("retention_audit_years", "0");
  auto zero = ResolveServeConfig(v);
  ASSERT_FALSE(zero.has_value());
  EXPECT_NE(zero.error().message().find("'retention_audit_years'"), std::string::npos);
}

TEST(ServeConfigTest, MalformedFileLineIsReportedWithItsNumber) {
  testing::TempDir dir;
  const auto file = dir.path() / "bad.conf";
  std::ofstream(file) << "listen = 1.2.3.4:5\nthis line has no equals\n";
  ConfigValues v;
  auto s = v.LoadFile(file);
  ASSERT_FALSE(s.has_value());
  EXPECT_NE(s.error().message().find(":2:"), std::string::npos);
}

}  // namespace
}  // namespace ward::collector
