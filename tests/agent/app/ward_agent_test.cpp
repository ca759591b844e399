// SPDX-License-Identifier: Apache-2.0
// The real ward-agent binary: command line, and (root) enforcement in a private mount namespace
// on a tmpfs, reload on SIGHUP, clean stop on SIGTERM.
#include <signal.h>
#include <sys/wait.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "private_tmpfs.h"
#include "ward/agent/store/event_store.h"
#include "ward/platform/key_provider.h"
#include "ward/testing/paths.h"
#include "ward/testing/require.h"

namespace {

namespace fs = std::filesystem;
using ward::testing::Spawn;
using ward::testing::WaitExit;

const std::string kAgent = ward::testing::BuiltFile("agent/app/ward-agent").string();

void Write(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc);
  out << text;
}

std::string Read(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string Policy(int version, const std::string& rules) {
  return R"({"version": )" + std::to_string(version) +
         R"(, "issued_at": "2026-09-01T08:00:00Z", "mode": "MODE_ENFORCE", "name": "test",
  "audience": "AUDIENCE_ADULT", "aup": {"version": 1, "title": "t", "text_adult": "Be kind."},
  "usb": {"default_action": "USB_ACTION_BLOCK"},
  "apps": {"default_action": "APP_ACTION_BLOCK", "rules": [)" +
         rules + "]}}";
}

int RunQuiet(const std::vector<std::string>& argv) {
  std::vector<std::string> all = {"/bin/sh", "-c", "exec \"$0\" \"$@\" >/dev/null 2>&1"};
  all.insert(all.end(), argv.begin(), argv.end());
  return WaitExit(Spawn(all));
}

TEST(WardAgentTest, HelpExitsZero) { EXPECT_EQ(RunQuiet({kAgent, "--help"}), 0); }

TEST(WardAgentTest, UnknownArgumentAndBadConfigExitNonZero) {
  EXPECT_EQ(RunQuiet({kAgent, "--frobnicate"}), 2);
  const fs::path conf = fs::temp_directory_path() / "ward-agent-test-bad.conf";
  Write(conf, "usb = perhaps\n");
  EXPECT_EQ(RunQuiet({kAgent, "--check-config", "--config", conf.string()}), 2);
  fs::remove(conf);
}

TEST(WardAgentTest, CheckConfigRefusesAnInvalidPolicy) {
  const fs::path dir = fs::temp_directory_path() / "ward-agent-test-check";
  fs::create_directories(dir);
  Write(dir / "agent.conf", "dev_policy_json = " + (dir / "policy.json").string() + "\n");
  Write(dir / "policy.json", R"({"version": 0})");
  EXPECT_EQ(RunQuiet({kAgent, "--check-config", "--config", (dir / "agent.conf").string()}), 1);
  Write(dir / "policy.json", Policy(1, ""));
  EXPECT_EQ(RunQuiet({kAgent, "--check-config", "--config", (dir / "agent.conf").string()}), 0);
  EXPECT_EQ(RunQuiet({kAgent, "status", "--config", (dir / "agent.conf").string()}), 3);
  fs::remove_all(dir);
}

class WardAgentRootTest : public ::testing::Test {
 protected:
  void SetUp() override {
    WARD_REQUIRE_ROOT();
    ASSERT_EQ(ward::testing::EnterPrivateTmpfs(dir_), "");
    fs::copy_file("/bin/true", dir_ / "game");
    conf_ = dir_ / "agent.conf";
    Write(conf_, "dev_policy_json = " + (dir_ / "policy.json").string() +
                     "\nstatus_file = " + (dir_ / "agent.status").string() +
                     "\nstore = " + StoreSetting() + "\nstate_dir = " + (dir_ / "state").string() +
                     "\nipc = off\nusb = off\nsettings_root = " + (dir_ / "root").string() +
                     "\nexec_mounts = " + dir_.string() + "\nexec_loaders =\n");
    Write(dir_ / "policy.json", Policy(1, ""));
    // The agent's own binary lives outside the marked tmpfs: it is not judged.
    agent_ = Spawn({"/bin/sh", "-c", "exec \"$0\" --config \"$1\" 2>\"$2\"", kAgent, conf_.string(),
                    (dir_ / "agent.log").string()});
    ASSERT_TRUE(StatusSays("state=running")) << Read(dir_ / "agent.log");
  }
  // The fixture's tests read events from the agent's log; the store test turns the store on.
  virtual std::string StoreSetting() const { return "off"; }

  void TearDown() override {
    if (agent_ > 0) {
      ::kill(agent_, SIGKILL);
      WaitExit(agent_);
    }
    ward::testing::LeavePrivateTmpfs(dir_);
  }

  bool StatusSays(const std::string& text) {
    for (int i = 0; i < 1000; ++i) {
      if (Read(dir_ / "agent.status").find(text) != std::string::npos) {
        return true;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  }

  std::string Sha256(const fs::path& file) {
    const fs::path out = dir_ / "sum";
    std::system(("sha256sum '" + file.string() + "' > '" + out.string() + "'").c_str());
    std::ifstream in(out);
    std::string hex;
    in >> hex;
    return hex;
  }

  fs::path dir_;
  fs::path conf_;
  pid_t agent_ = -1;
};

TEST_F(WardAgentRootTest, RefusesThenAllowsAfterReloadThenStopsCleanly) {
  EXPECT_EQ(WaitExit(Spawn({(dir_ / "game").string()})), 126);
  Write(dir_ / "policy.json",
        Policy(2, R"({"id": "allow-game", "action": "APP_ACTION_ALLOW", "sha256": ")" +
                      Sha256(dir_ / "game") + R"("})"));
  ::kill(agent_, SIGHUP);
  ASSERT_TRUE(StatusSays("policy 2"));
  EXPECT_EQ(WaitExit(Spawn({(dir_ / "game").string()})), 0);
  EXPECT_EQ(RunQuiet({kAgent, "status", "--config", conf_.string()}), 0);
  ::kill(agent_, SIGTERM);
  EXPECT_EQ(WaitExit(agent_), 0);
  agent_ = -1;
  EXPECT_NE(Read(dir_ / "agent.status").find("state=stopped"), std::string::npos);
  const std::string log = Read(dir_ / "agent.log");
  EXPECT_NE(log.find("DECISION_BLOCK"), std::string::npos);
  EXPECT_NE(log.find("KIND_POLICY_APPLIED"), std::string::npos);
}

TEST_F(WardAgentRootTest, OlderOrBrokenPolicyIsRejectedAndTheOldOneStays) {
  Write(dir_ / "policy.json", Policy(5, ""));
  ::kill(agent_, SIGHUP);
  ASSERT_TRUE(StatusSays("policy 5 (enforce)"));
  Write(dir_ / "policy.json", "{ not json");
  ::kill(agent_, SIGHUP);
  Write(dir_ / "policy.json", Policy(3, ""));
  ::kill(agent_, SIGHUP);
  ::kill(agent_, SIGTERM);
  EXPECT_EQ(WaitExit(agent_), 0);
  agent_ = -1;
  const std::string log = Read(dir_ / "agent.log");
  EXPECT_NE(log.find("KIND_POLICY_REJECTED"), std::string::npos);
  EXPECT_NE(log.find("older than the one in force (5)"), std::string::npos) << log;
  EXPECT_NE(Read(dir_ / "agent.status").find("policy 5 (enforce)"), std::string::npos);
}

TEST_F(WardAgentRootTest, SettingsFilesAreWrittenAndKeptUnderTheRootPrefix) {
  const fs::path rules = dir_ / "root/etc/polkit-1/rules.d/49-ward.rules";
  // Written by the settings thread soon after start; dconf update compiled the database.
  for (int i = 0; i < 1000 && !fs::exists(dir_ / "root/etc/dconf/db/ward"); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_TRUE(fs::exists(dir_ / "root/etc/dconf/db/ward")) << Read(dir_ / "agent.log");
  const std::string original = Read(rules);
  Write(rules, "polkit.addRule(function() { return polkit.Result.YES; });\n");
  for (int i = 0; i < 1000 && Read(rules) != original; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(Read(rules), original);
  ::kill(agent_, SIGTERM);
  EXPECT_EQ(WaitExit(agent_), 0);
  agent_ = -1;
  EXPECT_NE(Read(dir_ / "agent.log").find("KIND_TAMPER"), std::string::npos);
}

TEST_F(WardAgentRootTest, KilledAgentLeavesNoExecHanging) {
  ::kill(agent_, SIGKILL);
  WaitExit(agent_);
  agent_ = -1;
  EXPECT_EQ(WaitExit(Spawn({(dir_ / "game").string()})), 0);
}

class WardAgentStoreTest : public WardAgentRootTest {
 protected:
  std::string StoreSetting() const override { return "on"; }
};

TEST_F(WardAgentStoreTest, DecisionsLandInTheEncryptedStore) {
  EXPECT_EQ(WaitExit(Spawn({(dir_ / "game").string()})), 126);
  ::kill(agent_, SIGTERM);
  ASSERT_EQ(WaitExit(agent_), 0);
  agent_ = -1;
  ASSERT_TRUE(fs::exists(dir_ / "state/events.db"));
  ward::platform::KeyProviderOptions key_options;
  key_options.state_dir = dir_ / "state";
  auto keys = ward::platform::CreateKeyProvider(key_options);
  ward::agent::store::StoreOptions options;
  options.path = dir_ / "state/events.db";
  auto store = ward::agent::store::EventStore::Open(options, *keys);
  ASSERT_TRUE(store.has_value()) << store.error().ToString();
  auto batch = (*store)->Lease(1000, 64 << 20);
  ASSERT_TRUE(batch.has_value()) << batch.error().ToString();
  bool blocked = false;
  bool started = false;
  for (const auto& e : batch->events) {
    blocked = blocked || (e.has_exec() && e.exec().decision() == ward::v1::DECISION_BLOCK &&
                          e.exec().path() == (dir_ / "game").string());
    started = started || (e.has_agent() && e.agent().kind() == ward::v1::AgentEvent::KIND_STARTED);
  }
  EXPECT_TRUE(blocked);
  EXPECT_TRUE(started);
}

}  // namespace
