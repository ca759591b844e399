// SPDX-License-Identifier: Apache-2.0
// Settings lock-down on a temporary root: real files, real `dconf update`, real inotify.
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "recording_sinks.h"
#include "test_policies.h"
#include "ward/core/settings_enforcer.h"
#include "ward/core/settings_render.h"

namespace ward::core {
namespace {

namespace fs = std::filesystem;
using ward::testing::Eventually;

constexpr const char* kSettings = R"({"settings": [
  {"name": "software.install", "bool_value": false, "locked": true},
  {"name": "screensaver.idle_delay_seconds", "int_value": 300, "locked": true},
  {"name": "desktop.command_line", "bool_value": false, "locked": true},
  {"name": "desktop.wallpaper", "string_value": "/usr/share/ward/it's wallpaper.png",
   "locked": false}]})";

std::string PolicyWithSettings(const std::string& settings) {
  std::string json =
      ward::testing::PolicyJson("MODE_ENFORCE", R"({"default_action": "USB_ACTION_BLOCK"})",
                                R"({"default_action": "APP_ACTION_ALLOW"})");
  json.pop_back();  // the closing brace
  return json + R"(, "settings": )" + settings + "}";
}

std::string Read(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(SettingsRenderTest, RendersKeyfileLocksProfileAndPolkitRules) {
  auto policy = ward::testing::CompilePolicy(PolicyWithSettings(kSettings));
  ASSERT_NE(policy, nullptr);
  auto files = RenderSettings(policy->policy.settings(), "ward-learners");
  ASSERT_TRUE(files.has_value()) << files.error().ToString();
  ASSERT_EQ(files->size(), 4u);
  EXPECT_EQ((*files)[0].path, "etc/dconf/profile/user");
  EXPECT_EQ((*files)[0].content, "user-db:user\nsystem-db:ward\n");
  const std::string& keyfile = (*files)[1].content;
  EXPECT_NE(keyfile.find("[org/gnome/desktop/session]\nidle-delay=uint32 300\n"), std::string::npos)
      << keyfile;
  // "disable-command-line" means the opposite of the setting.
  EXPECT_NE(keyfile.find("disable-command-line=true"), std::string::npos) << keyfile;
  // Quotes escaped, the path as a file URI.
  EXPECT_NE(keyfile.find(R"(picture-uri='file:///usr/share/ward/it%27s%20wallpaper.png')"),
            std::string::npos)
      << keyfile;
  const std::string& locks = (*files)[2].content;
  EXPECT_NE(locks.find("/org/gnome/desktop/session/idle-delay\n"), std::string::npos);
  EXPECT_EQ(locks.find("picture-uri"), std::string::npos);  // not locked
  const std::string& rules = (*files)[3].content;
  EXPECT_NE(rules.find("\"org.freedesktop.packagekit.package-install\""), std::string::npos);
  EXPECT_NE(rules.find("subject.isInGroup(\"ward-learners\")"), std::string::npos);
  EXPECT_NE(rules.find("polkit.Result.NO"), std::string::npos);
}

TEST(SettingsRenderTest, RefusesValuesThatCouldInjectLinesAndOddGroupNames) {
  v1::SettingsPolicy settings;
  auto* lock = settings.add_settings();
  lock->set_name("desktop.wallpaper");
  lock->set_string_value("/x.png\n[org/evil]\nkey=1");
  EXPECT_FALSE(RenderSettings(settings, "ward-learners").has_value());
  settings.clear_settings();
  EXPECT_FALSE(RenderSettings(settings, "learners\")||true||(\"").has_value());
  EXPECT_FALSE(RenderSettings(settings, "").has_value());
  EXPECT_TRUE(RenderSettings(settings, "ward-learners").has_value());
}

class SettingsEnforcerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char templ[] = "/tmp/ward-settings-XXXXXX";
    ASSERT_NE(::mkdtemp(templ), nullptr);
    root_ = templ;
    auto control = platform::CreateSettingsControl({.root = root_, .dconf_command = "dconf"});
    ASSERT_TRUE(control.has_value()) << control.error().ToString();
    control_ = *std::move(control);
    enforcer_ =
        std::make_unique<SettingsEnforcer>(*control_, sinks_, failures_, factory_, "ward-learners");
    policy_ = ward::testing::CompilePolicy(PolicyWithSettings(kSettings));
    ASSERT_NE(policy_, nullptr);
    enforcer_->Start(policy_);
    ASSERT_TRUE(Eventually([&] { return enforcer_->Stats().applied == 1; }));
  }
  void TearDown() override {
    enforcer_.reset();
    fs::remove_all(root_);
  }

  std::size_t Reverted(const std::string& setting) const {
    std::size_t n = 0;
    for (const auto& e : sinks_.events()) {
      if (e.has_settings() && e.settings().kind() == v1::SettingsEvent::KIND_DRIFT_REVERTED &&
          e.settings().setting() == setting) {
        ++n;
      }
    }
    return n;
  }

  fs::path root_;
  ward::testing::RecordingSinks sinks_;
  ManualClock clock_;
  EventFactory factory_{clock_, SystemRandom()};
  FailurePolicy failures_{sinks_, factory_};
  std::unique_ptr<platform::SettingsControl> control_;
  std::unique_ptr<SettingsEnforcer> enforcer_;
  std::shared_ptr<const ActivePolicy> policy_;
};

TEST_F(SettingsEnforcerTest, DconfUpdateCompilesTheDatabaseOnTheTemporaryRoot) {
  const fs::path db = root_ / "etc/dconf/db/ward";
  ASSERT_TRUE(fs::exists(db));
  // Read the compiled database back through dconf itself.
  const fs::path profile = root_ / "read-profile";
  {
    std::ofstream(profile) << "file-db:" << db.string() << "\n";
  }
  const fs::path out = root_ / "read-out";
  ASSERT_EQ(
      std::system(("DCONF_PROFILE='" + profile.string() +
                   "' dconf read /org/gnome/desktop/session/idle-delay > '" + out.string() + "'")
                      .c_str()),
      0);
  EXPECT_EQ(Read(out), "uint32 300\n");
  EXPECT_NE(Read(root_ / "etc/polkit-1/rules.d/49-ward.rules").find("packagekit"),
            std::string::npos);
  std::size_t applied = 0;
  for (const auto& e : sinks_.events()) {
    applied += e.has_settings() && e.settings().kind() == v1::SettingsEvent::KIND_APPLIED ? 1u : 0u;
  }
  EXPECT_EQ(applied, 4u);
}

TEST_F(SettingsEnforcerTest, EditedKeyfileIsPutBackAndRecordedAsTamper) {
  const fs::path keyfile = root_ / "etc/dconf/db/ward.d/00-ward";
  const std::string original = Read(keyfile);
  {
    std::ofstream(keyfile, std::ios::trunc) << "[org/gnome/desktop/session]\nidle-delay=uint32 0\n";
  }
  ASSERT_TRUE(Eventually([&] { return Read(keyfile) == original; }));
  ASSERT_TRUE(Eventually([&] { return Reverted("etc/dconf/db/ward.d/00-ward") >= 1; }));
  // The tamper event follows the per-file records; wait for it rather than racing the enforcer.
  EXPECT_TRUE(Eventually([&] {
    for (const auto& e : sinks_.events()) {
      if (e.has_agent() && e.agent().kind() == v1::AgentEvent::KIND_TAMPER &&
          e.priority() == v1::PRIORITY_CRITICAL) {
        return true;
      }
    }
    return false;
  }));
}

TEST_F(SettingsEnforcerTest, DeletedPolkitRulesAndReplacedDatabaseAreRestored) {
  const fs::path rules = root_ / "etc/polkit-1/rules.d/49-ward.rules";
  const fs::path db = root_ / "etc/dconf/db/ward";
  const std::string db_bytes = Read(db);
  fs::remove(rules);
  ASSERT_TRUE(Eventually([&] { return fs::exists(rules); }));
  // The revert (files and dconf update) is complete once it is recorded.
  ASSERT_TRUE(Eventually([&] { return Reverted("etc/polkit-1/rules.d/49-ward.rules") >= 1; }));
  {
    std::ofstream(db, std::ios::trunc | std::ios::binary) << "not a gvdb";
  }
  ASSERT_TRUE(Eventually([&] { return Read(db) == db_bytes; }));
  EXPECT_TRUE(Eventually([&] { return Reverted("etc/dconf/db/ward") >= 1; })) << [&] {
    std::string all;
    for (const auto& e : sinks_.events()) {
      all += e.ShortDebugString() + "\n";
    }
    return all;
  }();
}

}  // namespace
}  // namespace ward::core
