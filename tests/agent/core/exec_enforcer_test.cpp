// SPDX-License-Identifier: Apache-2.0
// The exec enforcer with real fanotify, only on a tmpfs in this test process's private mount
// namespace (see private_tmpfs.h). Programs are copies of coreutils on that tmpfs.
#include "ward/core/exec_enforcer.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "private_tmpfs.h"
#include "recording_sinks.h"
#include "test_policies.h"
#include "ward/testing/require.h"

namespace ward::core {
namespace {

namespace fs = std::filesystem;
using ward::testing::Eventually;
using ward::testing::Spawn;
using ward::testing::WaitExit;

std::string Sha256Of(const fs::path& file) {
  const fs::path out = file.string() + ".sum";
  if (std::system(("sha256sum '" + file.string() + "' > '" + out.string() + "'").c_str()) != 0) {
    return "";
  }
  std::ifstream in(out);
  std::string hex;
  in >> hex;
  fs::remove(out);
  return hex;
}

std::string Slurp(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

class ExecEnforcerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    WARD_REQUIRE_ROOT();
    ASSERT_EQ(ward::testing::EnterPrivateTmpfs(dir_), "");
    allowed_ = dir_ / "true";
    unknown_ = dir_ / "echo";
    loader_ = dir_ / "ld.so";
    fs::copy_file("/bin/true", allowed_);
    fs::copy_file("/bin/echo", unknown_);
    ASSERT_FALSE(ward::testing::SystemLoader().empty());
    fs::copy_file(ward::testing::SystemLoader(), loader_);
  }
  void TearDown() override {
    if (enforcer_ != nullptr) {
      enforcer_->Stop();
    }
    enforcer_.reset();
    control_.reset();
    ward::testing::LeavePrivateTmpfs(dir_);
  }

  // ENFORCE or MONITOR, default block, `allowed_hashes` allowed by sha256.
  void Start(const std::string& mode, const std::vector<std::string>& allowed_hashes) {
    std::string rules;
    for (std::size_t i = 0; i < allowed_hashes.size(); ++i) {
      rules += (i == 0 ? "" : ",") + std::string(R"({"id": "allow-)") + std::to_string(i) +
               R"(", "action": "APP_ACTION_ALLOW", "sha256": ")" + allowed_hashes[i] + R"("})";
    }
    const std::string apps =
        R"({"default_action": "APP_ACTION_BLOCK",
            "default_message": "This program isn't allowed on this laptop.",
            "rules": [)" +
        rules + "]}";
    auto policy = ward::testing::CompilePolicy(
        ward::testing::PolicyJson(mode, R"({"default_action": "USB_ACTION_BLOCK"})", apps));
    ASSERT_NE(policy, nullptr);
    platform::ExecControlOptions options;
    options.mounts = {dir_};
    options.loaders = {loader_};
    options.kernel_cache = kernel_cache_;
    auto control = platform::CreateExecControl(options);
    ASSERT_TRUE(control.has_value()) << control.error().ToString();
    control_ = *std::move(control);
    enforcer_ = std::make_unique<ExecEnforcer>(*control_, sinks_, sinks_, failures_, factory_);
    enforcer_->Start(policy);
  }

  // Runs `argv` on the marked tmpfs; its exit code (126: refused with EPERM).
  int Run(const std::vector<std::string>& argv) { return WaitExit(Spawn(argv)); }

  bool kernel_cache_ = true;  // off: every run reaches the enforcer (its own cache)
  fs::path dir_;
  fs::path allowed_;
  fs::path unknown_;
  fs::path loader_;
  ward::testing::RecordingSinks sinks_;
  ManualClock clock_;
  EventFactory factory_{clock_, SystemRandom()};
  FailurePolicy failures_{sinks_, factory_};
  std::unique_ptr<platform::ExecControl> control_;
  std::unique_ptr<ExecEnforcer> enforcer_;
};

TEST_F(ExecEnforcerTest, ProgramAllowedByHashRuns) {
  const std::string hash = Sha256Of(allowed_);
  Start("MODE_ENFORCE", {hash});
  EXPECT_EQ(Run({allowed_.string()}), 0);
  ASSERT_TRUE(Eventually([&] { return !sinks_.Exec().empty(); }));
  const auto event = sinks_.Exec()[0];
  EXPECT_EQ(event.decision(), v1::DECISION_ALLOW);
  EXPECT_EQ(event.sha256(), hash);
  EXPECT_EQ(event.path(), allowed_.string());
  EXPECT_EQ(event.rule_id(), "allow-0");
}

TEST_F(ExecEnforcerTest, UnknownProgramIsRefusedInEnforce) {
  Start("MODE_ENFORCE", {Sha256Of(allowed_)});
  EXPECT_EQ(Run({unknown_.string(), "hello"}), 126);
  ASSERT_TRUE(Eventually([&] { return !sinks_.Exec().empty(); }));
  EXPECT_EQ(sinks_.Exec()[0].decision(), v1::DECISION_BLOCK);
  ASSERT_EQ(sinks_.notices().size(), 1u);
  EXPECT_EQ(sinks_.notices()[0].program_blocked().program(), "echo");
  EXPECT_EQ(sinks_.notices()[0].program_blocked().message(),
            "This program isn't allowed on this laptop.");
  EXPECT_EQ(enforcer_->Stats().blocked, 1u);
}

TEST_F(ExecEnforcerTest, UnknownProgramRunsButIsRecordedInMonitor) {
  Start("MODE_MONITOR", {Sha256Of(allowed_)});
  EXPECT_EQ(Run({unknown_.string(), "hello"}), 0);
  ASSERT_TRUE(Eventually([&] { return !sinks_.Exec().empty(); }));
  EXPECT_EQ(sinks_.Exec()[0].decision(), v1::DECISION_WOULD_BLOCK);
  ASSERT_EQ(sinks_.notices().size(), 1u);
  EXPECT_TRUE(sinks_.notices()[0].program_blocked().monitor_only());
}

TEST_F(ExecEnforcerTest, CachedDecisionHashesOnceAndRewrittenFileIsJudgedAgain) {
  kernel_cache_ = false;
  Start("MODE_ENFORCE", {Sha256Of(allowed_)});
  EXPECT_EQ(Run({allowed_.string()}), 0);
  EXPECT_EQ(Run({allowed_.string()}), 0);
  auto stats = enforcer_->Stats();
  EXPECT_EQ(stats.hashes, 1u);
  EXPECT_EQ(stats.cache_hits, 1u);
  // Same inode, new content: an unknown program now.
  {
    std::ofstream rewrite(allowed_, std::ios::binary | std::ios::trunc);
    rewrite << Slurp(unknown_);
  }
  EXPECT_EQ(Run({allowed_.string(), "hi"}), 126);
  // The enforcer counts after it answers, so the child can exit before the count lands.
  EXPECT_TRUE(Eventually([&] { return enforcer_->Stats().blocked == 1u; }));
  EXPECT_EQ(enforcer_->Stats().hashes, 2u);
}

TEST_F(ExecEnforcerTest, RunningAProgramThroughTheLoaderIsRefused) {
  Start("MODE_ENFORCE", {Sha256Of(allowed_)});
  EXPECT_EQ(Run({loader_.string(), unknown_.string(), "hi"}), 126);
  ASSERT_TRUE(Eventually([&] { return !sinks_.Exec().empty(); }));
  const auto event = sinks_.Exec()[0];
  EXPECT_EQ(event.decision(), v1::DECISION_BLOCK);
  EXPECT_EQ(event.path(), loader_.string());
  EXPECT_NE(event.reason().find("dynamic loader"), std::string::npos);
}

TEST_F(ExecEnforcerTest, LoaderOpenedAsInterpreterOfAnAllowedProgramIsAllowed) {
  // A copy of `true` whose PT_INTERP names the watched loader copy: the kernel then execs that
  // loader as its interpreter, which must not count as a direct loader run.
  std::string image = Slurp(allowed_);
  const std::string original = ward::testing::SystemLoader().string();
  const std::size_t at = image.find(original + '\0');
  ASSERT_NE(at, std::string::npos);
  ASSERT_EQ(loader_.string().size(), original.size()) << "tmpfs path length must match";
  image.replace(at, original.size(), loader_.string());
  const fs::path patched = dir_ / "ptrue";
  {
    std::ofstream out(patched, std::ios::binary);
    out << image;
  }
  fs::permissions(patched, fs::perms::owner_all);
  Start("MODE_ENFORCE", {Sha256Of(patched)});
  EXPECT_EQ(Run({patched.string()}), 0);
  EXPECT_EQ(Run({patched.string()}), 0);  // cached decision, ELF header not read again
  EXPECT_EQ(control_->Stats().loader_as_interpreter, 2u);
  // The second run was answered by the kernel (the allowance it remembers), not the enforcer.
  EXPECT_EQ(control_->Stats().remembered, 1u);
  EXPECT_EQ(enforcer_->Stats().decisions, 1u);
  EXPECT_EQ(enforcer_->Stats().blocked, 0u);
  // The allowance was used up by the interpreter: a direct loader run is still refused.
  EXPECT_EQ(Run({loader_.string(), unknown_.string(), "hi"}), 126);
}

TEST_F(ExecEnforcerTest, KernelAnswersAnAllowedProgramUntilItIsRewritten) {
  Start("MODE_ENFORCE", {Sha256Of(allowed_)});
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(Run({allowed_.string()}), 0);
  }
  EXPECT_EQ(control_->Stats().remembered, 1u);
  EXPECT_EQ(enforcer_->Stats().decisions, 1u);
  EXPECT_EQ(enforcer_->Stats().hashes, 1u);
  // Same inode, new content: the kernel forgets on the write, the enforcer judges it again.
  {
    std::ofstream rewrite(allowed_, std::ios::binary | std::ios::trunc);
    rewrite << Slurp(unknown_);
  }
  EXPECT_EQ(Run({allowed_.string(), "hi"}), 126);
  EXPECT_TRUE(Eventually([&] { return enforcer_->Stats().blocked == 1u; }));
}

TEST_F(ExecEnforcerTest, NewPolicyMakesTheKernelForgetWhatItAllowed) {
  Start("MODE_ENFORCE", {Sha256Of(allowed_)});
  EXPECT_EQ(Run({allowed_.string()}), 0);
  EXPECT_EQ(Run({allowed_.string()}), 0);
  EXPECT_EQ(control_->Stats().remembered, 1u);
  auto stricter = ward::testing::CompilePolicy(
      ward::testing::PolicyJson("MODE_ENFORCE", R"({"default_action": "USB_ACTION_BLOCK"})",
                                R"({"default_action": "APP_ACTION_BLOCK", "rules": []})"));
  ASSERT_NE(stricter, nullptr);
  enforcer_->SetPolicy(stricter);
  ASSERT_TRUE(Eventually([&] { return control_->Stats().remembered_flushes == 1u; }));
  EXPECT_EQ(Run({allowed_.string()}), 126);
  EXPECT_TRUE(Eventually([&] { return enforcer_->Stats().blocked == 1u; }));
}

TEST_F(ExecEnforcerTest, StopAnswersAndReleasesEverything) {
  Start("MODE_ENFORCE", {Sha256Of(allowed_)});
  enforcer_->Stop();
  // Nothing is watched any more: even the unknown program runs, nothing hangs.
  EXPECT_EQ(Run({unknown_.string(), "hi"}), 0);
}

}  // namespace
}  // namespace ward::core
