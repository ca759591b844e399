// SPDX-License-Identifier: Apache-2.0
#include "ward/app/config.h"

#include <gtest/gtest.h>

#include <fstream>

#include "ward/testing/temp_dir.h"

namespace ward::app {
namespace {

TEST(AgentConfigTest, ParsesEveryKeyWithCommentsAndBlankLines) {
  auto config = ParseConfig(R"(# Ward agent
policy_bundle = /etc/ward/policy.bundle
policy_key = /etc/ward/k.pub
ipc = off
ipc_socket = /run/w/agent.sock
status_file=/run/w/status   # trailing comment

store = off
state_dir = /tmp/ward-state
usb = off
sysfs_root = /tmp/sys
exec = on
exec_mounts = /, /home
exec_loaders = /lib64/ld-linux-x86-64.so.2
exec_answer_within_ms = 1500
exec_kernel_cache = off
packages = off
dpkg_root = /srv/image
dpkg_admindir = /srv/image/var/lib/dpkg
)");
  ASSERT_TRUE(config.has_value()) << config.error().ToString();
  EXPECT_EQ(config->policy_bundle, "/etc/ward/policy.bundle");
  EXPECT_EQ(config->policy_key, "/etc/ward/k.pub");
  EXPECT_TRUE(config->dev_policy_json.empty());
  EXPECT_FALSE(config->ipc);
  EXPECT_EQ(config->ipc_socket, "/run/w/agent.sock");
  EXPECT_EQ(config->status_file, "/run/w/status");
  EXPECT_FALSE(config->store);
  EXPECT_EQ(config->state_dir, "/tmp/ward-state");
  EXPECT_FALSE(config->usb);
  EXPECT_EQ(config->sysfs_root, "/tmp/sys");
  EXPECT_TRUE(config->exec);
  ASSERT_EQ(config->exec_mounts.size(), 2u);
  EXPECT_EQ(config->exec_mounts[1], "/home");
  EXPECT_EQ(config->exec_answer_within, std::chrono::milliseconds(1500));
  EXPECT_FALSE(config->exec_kernel_cache);
  EXPECT_FALSE(config->packages);
  EXPECT_EQ(config->dpkg_root, "/srv/image");
  EXPECT_EQ(config->dpkg_admindir, "/srv/image/var/lib/dpkg");
}

TEST(AgentConfigTest, EmptyTextGivesTheDefaults) {
  auto config = ParseConfig("");
  ASSERT_TRUE(config.has_value());
  EXPECT_TRUE(config->usb);
  EXPECT_EQ(config->sysfs_root, "/sys");
  ASSERT_EQ(config->exec_mounts.size(), 1u);
  EXPECT_TRUE(config->ipc);
  EXPECT_EQ(config->ipc_socket, "/run/ward/agent.sock");
  EXPECT_TRUE(config->dev_policy_json.empty());
  EXPECT_TRUE(config->packages);
  EXPECT_EQ(config->dpkg_root, "/");
  EXPECT_TRUE(config->dpkg_admindir.empty());
}

TEST(AgentConfigTest, ErrorsNameTheLine) {
  const auto expect_error = [](std::string_view text, std::string_view fragment) {
    auto config = ParseConfig(text);
    ASSERT_FALSE(config.has_value()) << text;
    EXPECT_EQ(config.error().code(), ErrorCode::kInvalidArgument);
    EXPECT_NE(config.error().message().find(fragment), std::string::npos)
        << config.error().message();
  };
  expect_error("usb = on\nusbb = on\n", "line 2: unknown key 'usbb'");
  expect_error("usb = maybe\n", "line 1: expected on or off");
  expect_error("usb = on\nusb = off\n", "line 2: 'usb' is set twice");
  expect_error("dev_policy_json = policy.json\n", "expected an absolute path");
  expect_error("exec_answer_within_ms = 5s\n", "expected milliseconds");
  expect_error("exec_answer_within_ms = 0\n", "expected milliseconds");
  expect_error("just words\n", "line 1: expected key = value");
}

TEST(AgentConfigTest, SyncIsOffUnlessCollectorUrlIsSet) {
  auto off = ParseConfig("");
  ASSERT_TRUE(off.has_value());
  EXPECT_TRUE(off->collector_url.empty());
  auto on = ParseConfig(
      "collector_url = https://127.0.0.1:8443\ncollector_ca = /etc/ward/ca.pem\n"
      "enrolment_secret_file = /etc/ward/enrolment.secret\n");
  ASSERT_TRUE(on.has_value()) << on.error().ToString();
  EXPECT_EQ(on->collector_url, "https://127.0.0.1:8443");
  EXPECT_EQ(on->collector_ca, "/etc/ward/ca.pem");
  EXPECT_EQ(on->enrolment_secret_file, "/etc/ward/enrolment.secret");
}

TEST(AgentConfigTest, RejectsPlainHttpAndIncompleteSyncSettings) {
  auto http = ParseConfig("collector_url = http://127.0.0.1:8080\n");
  ASSERT_FALSE(http.has_value());
  EXPECT_NE(http.error().message().find("https://"), std::string::npos) << http.error().ToString();
  auto no_ca =
      ParseConfig("collector_url = https://127.0.0.1:8443\nenrolment_secret_file = /etc/ward/s\n");
  ASSERT_FALSE(no_ca.has_value());
  EXPECT_NE(no_ca.error().message().find("collector_ca"), std::string::npos);
  auto stray = ParseConfig("collector_ca = /etc/ward/ca.pem\n");
  ASSERT_FALSE(stray.has_value());
  EXPECT_NE(stray.error().message().find("only with collector_url"), std::string::npos);
}

TEST(AgentConfigTest, MissingFileIsNotFound) {
  auto config = LoadConfig("/nonexistent/ward/agent.conf");
  ASSERT_FALSE(config.has_value());
  EXPECT_EQ(config.error().code(), ErrorCode::kNotFound);
}

void Write(const std::filesystem::path& path, const std::string& text) {
  std::filesystem::create_directories(path.parent_path());
  std::ofstream(path) << text;
}

TEST(AgentConfigTest, DropInsAreReadInNameOrderAndTheLastOneWins) {
  testing::TempDir dir;
  const auto conf = dir.path() / "agent.conf";
  Write(conf, "usb = off\npolicy_bundle = /etc/ward/policy.bundle\n");
  Write(ConfigDropInDir(conf) / "60-site.conf", "usb = on\nstate_dir = /srv/site\n");
  Write(ConfigDropInDir(conf) / "50-enrolment.conf",
        "collector_url = https://ward.example:8443\ncollector_ca = /etc/ward/ca.pem\n"
        "enrolment_secret_file = /etc/ward/enrol.d/secret\nstate_dir = /srv/enrol\n");
  Write(ConfigDropInDir(conf) / "README", "not a config file = ignored\n");
  auto config = LoadConfig(conf);
  ASSERT_TRUE(config.has_value()) << config.error().ToString();
  EXPECT_TRUE(config->usb);
  EXPECT_EQ(config->state_dir, "/srv/site");
  EXPECT_EQ(config->collector_url, "https://ward.example:8443");
  EXPECT_EQ(config->policy_bundle, "/etc/ward/policy.bundle");
}

TEST(AgentConfigTest, ADropInErrorNamesItsFileAndTheRulesApplyToTheWhole) {
  testing::TempDir dir;
  const auto conf = dir.path() / "agent.conf";
  Write(conf, "usb = off\n");
  Write(ConfigDropInDir(conf) / "50-bad.conf", "usb = maybe\n");
  auto bad = LoadConfig(conf);
  ASSERT_FALSE(bad.has_value());
  EXPECT_NE(bad.error().ToString().find("50-bad.conf"), std::string::npos);
  std::filesystem::remove(ConfigDropInDir(conf) / "50-bad.conf");
  Write(ConfigDropInDir(conf) / "50-half.conf", "collector_url = https://ward.example:8443\n");
  auto half = LoadConfig(conf);
  ASSERT_FALSE(half.has_value());
  EXPECT_NE(half.error().message().find("collector_ca"), std::string::npos);
}

}  // namespace
}  // namespace ward::app
