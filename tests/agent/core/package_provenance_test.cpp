// SPDX-License-Identifier: Apache-2.0
// Package rules end to end: real .deb packages (dpkg-deb) installed by the real dpkg into a
// root on a tmpfs in this test's private mount namespace, judged through real fanotify by the
// exec enforcer with package provenance.
#include "ward/core/package_provenance.h"

#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "private_tmpfs.h"
#include "recording_sinks.h"
#include "test_policies.h"
#include "ward/core/exec_enforcer.h"
#include "ward/testing/dpkg_test_root.h"
#include "ward/testing/require.h"

namespace ward::core {
namespace {

namespace fs = std::filesystem;
using ward::testing::DpkgTestRoot;
using ward::testing::Eventually;
using ward::testing::Spawn;
using ward::testing::WaitExit;

platform::PackageDatabaseOptions Options(const fs::path& root) {
  platform::PackageDatabaseOptions options;
  options.root = root;
  return options;
}

std::string Script(const std::string& says) { return "#!/bin/sh\necho " + says + " >/dev/null\n"; }

DpkgTestRoot::Package Alpha(const std::string& version = "1.0") {
  return DpkgTestRoot::Make("alpha",
                            {{"/bin/alpha-tool", Script("alpha " + version)},
                             {"/usr/bin/alpha-other", Script("other")},
                             {"/etc/alpha/run.sh", Script("alpha conf"), true, true}},
                            version);
}

DpkgTestRoot::Package Beta() {
  return DpkgTestRoot::Make("beta", {{"/usr/bin/beta-tool", Script("beta")},
                                     {"/etc/cron.daily/beta", Script("beta cron"), true, true}});
}

struct Rule {
  std::string id;
  bool allow;
  std::string package;
};

class PackageProvenanceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    WARD_REQUIRE_ROOT();
    WARD_REQUIRE_OR_SKIP(DpkgTestRoot::Available(), "needs dpkg and dpkg-deb");
    ASSERT_EQ(ward::testing::EnterPrivateTmpfs(dir_), "");
    dpkg_ = std::make_unique<DpkgTestRoot>(dir_ / "root", dir_ / "work");
    ASSERT_EQ(dpkg_->Install(dpkg_->Build(Alpha())), 0);
    ASSERT_EQ(dpkg_->Install(dpkg_->Build(Beta())), 0);
  }
  void TearDown() override {
    if (enforcer_ != nullptr) {
      enforcer_->Stop();
    }
    enforcer_.reset();
    control_.reset();
    if (packages_ != nullptr) {
      packages_->Stop();
    }
    packages_.reset();
    dpkg_.reset();
    ward::testing::LeavePrivateTmpfs(dir_);
  }

  // Package rules, then `more_rules` (JSON objects, each with a leading comma).
  static std::shared_ptr<const ActivePolicy> Policy(const std::string& default_action,
                                                    const std::vector<Rule>& rules,
                                                    const std::string& more_rules = "") {
    std::string json;
    for (const Rule& rule : rules) {
      json += std::string(json.empty() ? "" : ",") + R"({"id": ")" + rule.id + R"(", "action": ")" +
              (rule.allow ? "APP_ACTION_ALLOW" : "APP_ACTION_BLOCK") + R"(", "package": ")" +
              rule.package + R"("})";
    }
    return ward::testing::CompilePolicy(
        ward::testing::PolicyJson("MODE_ENFORCE", R"({"default_action": "USB_ACTION_BLOCK"})",
                                  R"({"default_action": ")" + default_action + R"(", "rules": [)" +
                                      json + more_rules + "]}"));
  }

  // `load_now`: as the agent, which reads the records at start only for a policy naming packages.
  void Start(const std::string& default_action, const std::vector<Rule>& rules,
             bool load_now = true) {
    auto policy = Policy(default_action, rules);
    ASSERT_NE(policy, nullptr);
    auto database = platform::CreatePackageDatabase(Options(dpkg_->root()));
    ASSERT_TRUE(database.has_value()) << database.error().ToString();
    packages_ =
        std::make_unique<PackageProvenance>(*std::move(database), sinks_, factory_, failures_);
    packages_->Start(load_now ? policy->apps.get() : nullptr);
    platform::ExecControlOptions options;
    options.mounts = {dir_};
    auto control = platform::CreateExecControl(options);
    ASSERT_TRUE(control.has_value()) << control.error().ToString();
    control_ = *std::move(control);
    enforcer_ = std::make_unique<ExecEnforcer>(*control_, sinks_, sinks_, failures_, factory_,
                                               packages_.get());
    enforcer_->Start(policy);
  }

  // Runs a program of the installed root ("/usr/bin/alpha-tool"); 126 when refused.
  int Run(const std::string& path) {
    events_before_run_[path] = ExecEvents(path).size();
    return WaitExit(Spawn({dpkg_->At(path).string()}));
  }

  // The last exec event for `path`.
  std::vector<v1::ExecEvent> ExecEvents(const std::string& path) {
    std::vector<v1::ExecEvent> out;
    for (const auto& e : sinks_.Exec()) {
      if (e.path() == dpkg_->At(path).string()) {
        out.push_back(e);
      }
    }
    return out;
  }
  // The newest event for `path`. The enforcer answers the kernel first and records after, so
  // the last Run's event may still be on its way: wait for it briefly. A run the cache or the
  // kernel answered records nothing; then the wait ends and the older event is returned.
  v1::ExecEvent LastExec(const std::string& path) {
    const std::size_t before = events_before_run_[path];
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(3);
    while (ExecEvents(path).size() <= before && std::chrono::steady_clock::now() < until) {
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    const auto events = ExecEvents(path);
    return events.empty() ? v1::ExecEvent{} : events.back();
  }

  std::vector<std::string> ModifiedReports() {
    std::vector<std::string> out;
    for (const auto& e : sinks_.events()) {
      if (e.has_agent() && e.agent().kind() == v1::AgentEvent::KIND_PACKAGE_FILE_MODIFIED) {
        out.push_back(e.agent().detail());
      }
    }
    return out;
  }

  static void Append(const fs::path& file, const std::string& text) {
    std::ofstream(file, std::ios::app) << text;
  }

  // Waits until the provenance has put in force an index newer than `generation`.
  bool ReloadedAfter(std::uint64_t generation) {
    return Eventually([&] { return packages_->generation() > generation; });
  }

  fs::path dir_;
  std::unique_ptr<DpkgTestRoot> dpkg_;
  std::map<std::string, std::size_t> events_before_run_;  // exec events per path at its last Run
  ward::testing::RecordingSinks sinks_;
  ManualClock clock_;
  EventFactory factory_{clock_, SystemRandom()};
  FailurePolicy failures_{sinks_, factory_};
  std::unique_ptr<PackageProvenance> packages_;
  std::unique_ptr<platform::ExecControl> control_;
  std::unique_ptr<ExecEnforcer> enforcer_;
};

TEST_F(PackageProvenanceTest, PackageRuleAllowsItsProgramsAndNothingElse) {
  Start("APP_ACTION_BLOCK", {{"allow-alpha", true, "alpha"}});
  // Listed by dpkg as /bin/alpha-tool; the kernel reports it through the /usr merge.
  EXPECT_EQ(Run("/usr/bin/alpha-tool"), 0);
  EXPECT_EQ(Run("/usr/bin/alpha-other"), 0);
  EXPECT_EQ(Run("/usr/bin/beta-tool"), 126);
  const auto event = LastExec("/usr/bin/alpha-tool");
  EXPECT_EQ(event.decision(), v1::DECISION_ALLOW);
  EXPECT_EQ(event.package(), "alpha");
  EXPECT_EQ(event.rule_id(), "allow-alpha");
  EXPECT_EQ(LastExec("/usr/bin/beta-tool").package(), "");  // no rule names beta: not checked
  EXPECT_EQ(packages_->Stats().verified, 2u);
  EXPECT_TRUE(ModifiedReports().empty());
}

TEST_F(PackageProvenanceTest, PackageRuleBlocksAndOnlyRuledPackagesAreDigested) {
  Start("APP_ACTION_ALLOW", {{"block-beta", false, "beta"}});
  EXPECT_EQ(Run("/usr/bin/beta-tool"), 126);
  EXPECT_EQ(Run("/usr/bin/alpha-tool"), 0);
  EXPECT_EQ(Run("/usr/bin/alpha-tool"), 0);
  EXPECT_EQ(LastExec("/usr/bin/beta-tool").rule_id(), "block-beta");
  EXPECT_EQ(packages_->Stats().digests, 1u);    // alpha's file was never read
  EXPECT_EQ(control_->Stats().remembered, 1u);  // alpha's second run: answered by the kernel
}

TEST_F(PackageProvenanceTest, ModifiedProgramLosesItsPackageAloneAndIsReportedOnce) {
  Start("APP_ACTION_BLOCK", {{"allow-alpha", true, "alpha"}});
  Append(dpkg_->At("/usr/bin/alpha-tool"), "echo changed >/dev/null\n");
  EXPECT_EQ(Run("/usr/bin/alpha-tool"), 126);
  EXPECT_EQ(Run("/usr/bin/alpha-tool"), 126);
  EXPECT_EQ(LastExec("/usr/bin/alpha-tool").package(), "");
  // The package's other program is still the package's.
  EXPECT_EQ(Run("/usr/bin/alpha-other"), 0);
  EXPECT_EQ(LastExec("/usr/bin/alpha-other").package(), "alpha");
  const auto reports = ModifiedReports();
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_NE(reports[0].find(dpkg_->At("/usr/bin/alpha-tool").string()), std::string::npos);
  EXPECT_NE(reports[0].find("package alpha"), std::string::npos);
  EXPECT_EQ(packages_->Stats().modified, 1u);
}

// fapolicyd's deb back end stopped trusting more than the one file when a conffile had been
// changed. Here an edited conffile loses its own provenance and nothing else does: not the
// package's programs, not another package's unchanged conffile, not after a reload.
TEST_F(PackageProvenanceTest, Regression_FapolicydConffile_ChangedConffileKeepsEveryOtherFile) {
  Start("APP_ACTION_BLOCK", {{"allow-alpha", true, "alpha"}, {"allow-beta", true, "beta"}});
  Append(dpkg_->At("/etc/alpha/run.sh"), "echo edited by the administrator >/dev/null\n");
  EXPECT_EQ(Run("/etc/alpha/run.sh"), 126);
  const auto reports = ModifiedReports();
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_NE(reports[0].find("conffile"), std::string::npos);
  for (const char* trusted : {"/usr/bin/alpha-tool", "/usr/bin/alpha-other", "/usr/bin/beta-tool",
                              "/etc/cron.daily/beta"}) {
    EXPECT_EQ(Run(trusted), 0) << trusted;
  }
  EXPECT_EQ(LastExec("/etc/cron.daily/beta").package(), "beta");  // an unchanged conffile

  // dpkg changes its records (another install); the index is read again with the edited
  // conffile still on disk, and every other file keeps its package.
  const std::uint64_t generation = packages_->generation();
  ASSERT_EQ(dpkg_->Install(dpkg_->Build(
                DpkgTestRoot::Make("gamma", {{"/usr/bin/gamma-tool", Script("gamma")}}))),
            0);
  ASSERT_TRUE(ReloadedAfter(generation));
  EXPECT_EQ(packages_->index()->Lookup("/usr/bin/alpha-tool").size(), 1u);
  for (const char* trusted : {"/usr/bin/alpha-tool", "/usr/bin/alpha-other", "/usr/bin/beta-tool",
                              "/etc/cron.daily/beta"}) {
    EXPECT_EQ(Run(trusted), 0) << trusted;
    EXPECT_NE(LastExec(trusted).package(), "") << trusted;
  }
  EXPECT_EQ(Run("/etc/alpha/run.sh"), 126);
  EXPECT_EQ(ModifiedReports().size(), 1u);  // the same content is not reported again
  EXPECT_EQ(failures_.Count(FailureReason::kPackageIndexFailed), 0u);
}

TEST_F(PackageProvenanceTest, UpgradeIsPickedUpByTheVeryNextExec) {
  Start("APP_ACTION_BLOCK", {{"allow-alpha", true, "alpha"}});
  EXPECT_EQ(Run("/usr/bin/alpha-tool"), 0);
  ASSERT_EQ(dpkg_->Install(dpkg_->Build(Alpha("2.0"))), 0);
  // No waiting for the watcher: the new content does not match the index in force, the
  // records changed and dpkg is done, so the lookup reloads and finds version 2.0's digest.
  EXPECT_EQ(Run("/usr/bin/alpha-tool"), 0);
  EXPECT_EQ(LastExec("/usr/bin/alpha-tool").package(), "alpha");
  EXPECT_TRUE(ModifiedReports().empty());
}

TEST_F(PackageProvenanceTest, RemovedPackageNoLongerVouchesForAnIdenticalFile) {
  Start("APP_ACTION_BLOCK", {{"allow-alpha", true, "alpha"}});
  const std::string content = Script("alpha 1.0");
  EXPECT_EQ(Run("/usr/bin/alpha-tool"), 0);
  ASSERT_EQ(dpkg_->Remove("alpha"), 0);
  ASSERT_FALSE(fs::exists(dpkg_->At("/usr/bin/alpha-tool")));
  // The same bytes put back by hand are nobody's package now.
  std::ofstream(dpkg_->At("/usr/bin/alpha-tool")) << content;
  fs::permissions(dpkg_->At("/usr/bin/alpha-tool"), fs::perms(0755));
  EXPECT_EQ(Run("/usr/bin/alpha-tool"), 126);
  EXPECT_EQ(LastExec("/usr/bin/alpha-tool").package(), "");
  EXPECT_TRUE(ModifiedReports().empty());
}

TEST_F(PackageProvenanceTest, NewRecordsDropCachedVerdictsOfUntouchedFiles) {
  Start("APP_ACTION_BLOCK", {{"allow-alpha", true, "alpha"}});
  EXPECT_EQ(Run("/usr/bin/alpha-tool"), 0);
  EXPECT_EQ(Run("/usr/bin/alpha-tool"), 0);
  EXPECT_EQ(control_->Stats().remembered, 1u);  // the kernel answers the second run
  struct stat before{};
  ASSERT_EQ(::stat(dpkg_->At("/usr/bin/alpha-tool").c_str(), &before), 0);
  // A diversion without renaming: dpkg now says alpha's copy of /bin/alpha-tool lives at
  // /bin/alpha-tool.real, so the file left at the old name (not touched at all) is no
  // package's any more.
  const std::uint64_t generation = packages_->generation();
  ASSERT_EQ(dpkg_->Divert("--package beta --no-rename --divert /bin/alpha-tool.real --add "
                          "/bin/alpha-tool"),
            0);
  ASSERT_TRUE(ReloadedAfter(generation));
  struct stat after{};
  ASSERT_EQ(::stat(dpkg_->At("/usr/bin/alpha-tool").c_str(), &after), 0);
  ASSERT_EQ(before.st_ino, after.st_ino);
  ASSERT_EQ(before.st_ctim.tv_nsec, after.st_ctim.tv_nsec);  // the same file version
  // The new records made the kernel forget (the enforcer is woken to flush: wait for it), and
  // the enforcer judged again with them.
  ASSERT_TRUE(Eventually([&] { return control_->Stats().remembered_flushes >= 1u; }));
  EXPECT_EQ(Run("/usr/bin/alpha-tool"), 126);
  EXPECT_EQ(enforcer_->Stats().cache_hits, 0u);
}

TEST_F(PackageProvenanceTest, PolicyWithoutPackageRulesReadsNothing) {
  Start("APP_ACTION_ALLOW", {});
  EXPECT_EQ(Run("/usr/bin/alpha-tool"), 0);
  EXPECT_EQ(LastExec("/usr/bin/alpha-tool").package(), "");
  EXPECT_EQ(packages_->Stats().digests, 0u);
  EXPECT_EQ(packages_->Stats().loads, 0u);
  EXPECT_EQ(packages_->index(), nullptr) << "the index costs memory nobody needs";
}

TEST_F(PackageProvenanceTest, RecordsAreReadWhenAPolicyFirstNeedsThem) {
  Start("APP_ACTION_BLOCK", {{"allow-alpha", true, "alpha"}}, /*load_now=*/false);
  EXPECT_EQ(packages_->Stats().loads, 0u);
  EXPECT_EQ(Run("/usr/bin/alpha-tool"), 0);
  EXPECT_EQ(LastExec("/usr/bin/alpha-tool").package(), "alpha");
  EXPECT_EQ(Run("/usr/bin/beta-tool"), 126);
  EXPECT_EQ(packages_->Stats().loads, 1u);
}

TEST_F(PackageProvenanceTest, IndexHoldsOnlyThePackagesTheRulesName) {
  Start("APP_ACTION_BLOCK", {{"allow-alpha", true, "alpha"}});
  const auto index = packages_->index();
  ASSERT_NE(index, nullptr);
  EXPECT_EQ(index->selection().names(), std::vector<std::string>{"alpha"});
  EXPECT_EQ(index->Lookup("/usr/bin/alpha-tool").size(), 1u);
  EXPECT_TRUE(index->Lookup("/usr/bin/beta-tool").empty());  // beta's records were not read
  EXPECT_EQ(index->stats().packages, 1u);
  EXPECT_EQ(index->stats().packages_not_selected, 1u);
  EXPECT_EQ(packages_->Stats().index_packages, 1u);
}

// The first policy names alpha; the next names beta instead. Its first decision already has
// beta's records: nothing else would read them (dpkg's records do not change here).
TEST_F(PackageProvenanceTest, PolicyNamingOtherPackagesHasTheirRecordsReadBeforeItJudges) {
  Start("APP_ACTION_BLOCK", {{"allow-alpha", true, "alpha"}});
  EXPECT_EQ(Run("/usr/bin/alpha-tool"), 0);
  EXPECT_EQ(Run("/usr/bin/alpha-tool"), 0);
  EXPECT_EQ(Run("/usr/bin/beta-tool"), 126);
  EXPECT_EQ(control_->Stats().remembered, 1u);  // alpha's second run: answered by the kernel
  const std::uint64_t generation = packages_->generation();
  // A program of no package that only the new policy allows shows when it is in force.
  const fs::path marker = dir_ / "marker";
  std::ofstream(marker) << Script("marker");
  fs::permissions(marker, fs::perms(0755));
  enforcer_->SetPolicy(Policy(
      "APP_ACTION_BLOCK", {{"allow-beta", true, "beta"}},
      R"(,{"id": "marker", "action": "APP_ACTION_ALLOW", "path": ")" + marker.string() + R"("})"));
  ASSERT_TRUE(Eventually([&] { return WaitExit(Spawn({marker.string()})) == 0; }));
  EXPECT_EQ(packages_->Stats().loads, 2u);
  EXPECT_GT(packages_->generation(), generation);
  EXPECT_EQ(packages_->index()->selection().names(), std::vector<std::string>{"beta"});
  EXPECT_EQ(Run("/usr/bin/beta-tool"), 0);
  EXPECT_EQ(LastExec("/usr/bin/beta-tool").package(), "beta");
  EXPECT_EQ(LastExec("/usr/bin/beta-tool").rule_id(), "allow-beta");
  // alpha's verdict was cached with the old policy and index: judged again, and refused.
  EXPECT_EQ(Run("/usr/bin/alpha-tool"), 126);
  EXPECT_EQ(LastExec("/usr/bin/alpha-tool").package(), "");
  EXPECT_TRUE(packages_->index()->Lookup("/usr/bin/alpha-tool").empty());

  // A policy naming the same packages (other rules) keeps the index: nothing is read.
  enforcer_->SetPolicy(Policy("APP_ACTION_BLOCK", {{"allow-beta-again", true, "beta"}}));
  ASSERT_TRUE(Eventually([&] { return WaitExit(Spawn({marker.string()})) == 126; }));
  EXPECT_EQ(Run("/usr/bin/beta-tool"), 0);
  EXPECT_EQ(LastExec("/usr/bin/beta-tool").rule_id(), "allow-beta-again");
  EXPECT_EQ(packages_->Stats().loads, 2u);
  EXPECT_EQ(failures_.Count(FailureReason::kPackageIndexFailed), 0u);
}

}  // namespace
}  // namespace ward::core
