// SPDX-License-Identifier: Apache-2.0
#include "ward/app/package_cli.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <string>
#include <vector>

#include "ward/testing/temp_dir.h"

namespace ward::app {
namespace {

namespace fs = std::filesystem;

void Write(const fs::path& path, const std::string& text, fs::perms mode = fs::perms(0644)) {
  fs::create_directories(path.parent_path());
  std::ofstream(path) << text;
  fs::permissions(path, mode);
}

AgentConfig ConfigIn(const fs::path& dir) {
  AgentConfig config;
  config.status_file = dir / "run/agent.status";
  config.state_dir = dir / "state";
  return config;
}

TEST(StopCauseTest, ThePackagesMarkerSaysUpgradeOrRemoveAndIsUsedOnce) {
  testing::TempDir dir;
  const AgentConfig config = ConfigIn(dir.path());
  Write(PackageStopMarker(config), "upgrade\n");
  EXPECT_EQ(TakeStopCause(config), StopCause::kPackageUpgrade);
  EXPECT_FALSE(fs::exists(PackageStopMarker(config)));
  // The next stop without a marker is nobody's the agent knows of (this is no shutdown).
  EXPECT_EQ(TakeStopCause(config), StopCause::kOther);
  Write(PackageStopMarker(config), "remove\n");
  EXPECT_EQ(TakeStopCause(config), StopCause::kPackageRemove);
}

TEST(StopCauseTest, AnythingElseInTheMarkerIsNotThePackage) {
  testing::TempDir dir;
  const AgentConfig config = ConfigIn(dir.path());
  Write(PackageStopMarker(config), "please\n");
  EXPECT_EQ(TakeStopCause(config), StopCause::kOther);
  fs::create_directories(PackageStopMarker(config));  // not a regular file
  EXPECT_EQ(TakeStopCause(config), StopCause::kOther);
}

TEST(LastUploadReportTest, SaysWhatIsLeftAndWhy) {
  EXPECT_EQ(LastUploadReport(std::uint64_t{0}, ""),
            "Ward: no safeguarding events (concerns, tamper) are waiting to be sent.");
  const std::string two = LastUploadReport(std::uint64_t{2}, "connection refused");
  EXPECT_NE(two.find("Ward: 2 safeguarding event(s)"), std::string::npos) << two;
  EXPECT_NE(two.find("(connection refused)"), std::string::npos) << two;
  EXPECT_NE(two.find("until it is purged"), std::string::npos) << two;
  const std::string unknown = LastUploadReport(
      Result<std::uint64_t>(std::unexpected(Error(ErrorCode::kDataLoss, "x"))), "");
  EXPECT_NE(unknown.find("cannot tell"), std::string::npos) << unknown;
}

// `ward-agent enrol` with the config and IT's files in a temporary directory.
class EnrolCommandTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Write(conf(), "status_file = " + (dir_.path() / "run/agent.status").string() +
                      "\nstate_dir = " + (dir_.path() / "state").string() +
                      "\npolicy_key = " + (dir_.path() / "etc/policy.pub").string() + "\n");
  }
  fs::path conf() const { return dir_.path() / "etc/agent.conf"; }
  fs::path from() const { return dir_.path() / "enrol.d"; }
  int Enrol() {
    std::vector<std::string> args = {"--from", from().string(), "--within", "1"};
    std::vector<char*> argv;
    for (auto& a : args) {
      argv.push_back(a.data());
    }
    return RunEnrolCommand(static_cast<int>(argv.size()), argv.data(), conf().string());
  }

  testing::TempDir dir_;
};

TEST_F(EnrolCommandTest, NothingToEnrolWithFails) { EXPECT_EQ(Enrol(), 1); }

TEST_F(EnrolCommandTest, RefusesASecretOthersCanRead) {
  Write(from() / "collector.url", "https://ward.example:8443\n");
  Write(from() / "secret", "wes_secret\n", fs::perms(0644));
  EXPECT_EQ(Enrol(), 1);
  // Nothing was installed from a refused set of files.
  EXPECT_FALSE(fs::exists(dir_.path() / "etc/agent.conf.d/50-enrolment.conf"));
  EXPECT_TRUE(fs::exists(from() / "secret"));
}

TEST_F(EnrolCommandTest, RefusesAPolicyKeyThatIsNoKey) {
  Write(from() / "collector.url", "https://ward.example:8443\n");
  Write(from() / "secret", "wes_secret\n", fs::perms(0600));
  Write(from() / "ca.pem", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n");
  Write(from() / "policy.pub", "not a key\n");
  EXPECT_EQ(Enrol(), 1);
  EXPECT_FALSE(fs::exists(dir_.path() / "etc/policy.pub"));
  EXPECT_TRUE(fs::exists(from() / "secret"));
}

}  // namespace
}  // namespace ward::app
