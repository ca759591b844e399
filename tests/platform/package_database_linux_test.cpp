// SPDX-License-Identifier: Apache-2.0
// The package database read from what the real dpkg wrote: packages built with dpkg-deb and
// installed with dpkg into a temporary root (never the machine's own database).
#include "ward/platform/package_database.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>

#include <gtest/gtest.h>

#include "ward/testing/dpkg_test_root.h"
#include "ward/testing/require.h"
#include "ward/testing/temp_dir.h"

namespace ward::platform {
namespace {

namespace fs = std::filesystem;
using ward::testing::DpkgTestRoot;

PackageDatabaseOptions Options(const fs::path& root) {
  PackageDatabaseOptions options;
  options.root = root;
  return options;
}

std::string Script(const std::string& says) { return "#!/bin/sh\necho " + says + "\n"; }

DpkgTestRoot::Package Alpha(const std::string& version = "1.0") {
  return DpkgTestRoot::Make("alpha",
                            {{"/bin/alpha-tool", Script("alpha " + version)},
                             {"/usr/bin/alpha-other", Script("other")},
                             {"/etc/alpha/run.sh", Script("conf"), true, true}},
                            version);
}

class PackageDatabaseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    WARD_REQUIRE_ROOT();
    WARD_REQUIRE_OR_SKIP(DpkgTestRoot::Available(), "needs dpkg and dpkg-deb");
    dpkg_ = std::make_unique<DpkgTestRoot>(dir_.path() / "root", dir_.path() / "work");
    auto database = CreatePackageDatabase(Options(dpkg_->root()));
    ASSERT_TRUE(database.has_value()) << database.error().ToString();
    database_ = *std::move(database);
  }

  std::shared_ptr<const PackageIndex> Load() {
    auto index = database_->Load();
    EXPECT_TRUE(index.has_value()) << index.error().ToString();
    return index.has_value() ? *index : nullptr;
  }

  // The one owner of `path`, or a test failure.
  PackageFile Owner(const PackageIndex& index, const std::string& path) {
    const auto owners = index.Lookup(path);
    EXPECT_EQ(owners.size(), 1u) << path;
    return owners.empty() ? PackageFile{} : owners[0];
  }

  ward::testing::TempDir dir_;
  std::unique_ptr<DpkgTestRoot> dpkg_;
  std::unique_ptr<PackageDatabase> database_;
};

TEST_F(PackageDatabaseTest, IndexesWhatDpkgInstalledByTheResolvedPath) {
  ASSERT_EQ(dpkg_->Install(dpkg_->Build(Alpha())), 0);
  auto index = Load();
  ASSERT_NE(index, nullptr);
  // dpkg lists /bin/alpha-tool; bin is a link to usr/bin, so the file (and what the kernel
  // reports for it) is /usr/bin/alpha-tool.
  EXPECT_TRUE(index->Lookup("/bin/alpha-tool").empty());
  const PackageFile tool = Owner(*index, "/usr/bin/alpha-tool");
  EXPECT_EQ(tool.package, "alpha");
  EXPECT_EQ(tool.architecture, "all");
  EXPECT_EQ(Md5Hex(tool.md5), DpkgTestRoot::Md5Of(dpkg_->At("/usr/bin/alpha-tool")));
  EXPECT_FALSE(tool.conffile);
  const PackageFile conf = Owner(*index, "/etc/alpha/run.sh");
  EXPECT_TRUE(conf.conffile);
  EXPECT_EQ(Md5Hex(conf.md5), DpkgTestRoot::Md5Of(dpkg_->At("/etc/alpha/run.sh")));
  EXPECT_EQ(index->stats().packages, 1u);
  EXPECT_EQ(index->stats().files, 3u);
  EXPECT_EQ(index->stats().aliased, 1u);
}

TEST_F(PackageDatabaseTest, MultiArchSameUsesArchQualifiedInfoFiles) {
  const std::string arch = DpkgTestRoot::NativeArchitecture();
  ASSERT_FALSE(arch.empty());
  auto deb = DpkgTestRoot::Make("libalpha1", {{"/usr/lib/libalpha.so.1", "ELF?", false}});
  deb.architecture = arch;
  deb.multi_arch = "same";
  ASSERT_EQ(dpkg_->Install(dpkg_->Build(deb)), 0);
  ASSERT_TRUE(fs::exists(dpkg_->admindir() / "info" / ("libalpha1:" + arch + ".md5sums")));
  auto index = Load();
  ASSERT_NE(index, nullptr);
  const PackageFile lib = Owner(*index, "/usr/lib/libalpha.so.1");
  EXPECT_EQ(lib.package, "libalpha1");
  EXPECT_EQ(lib.architecture, arch);
}

TEST_F(PackageDatabaseTest, DivertedFileBelongsToThePackageWhoseCopyIsThere) {
  ASSERT_EQ(dpkg_->Install(
                dpkg_->Build(DpkgTestRoot::Make("gamma", {{"/usr/bin/shared", Script("gamma")}}))),
            0);
  ASSERT_EQ(dpkg_->Divert("--package delta --divert /usr/bin/shared.gamma --rename --add "
                          "/usr/bin/shared"),
            0);
  ASSERT_EQ(dpkg_->Install(
                dpkg_->Build(DpkgTestRoot::Make("delta", {{"/usr/bin/shared", Script("delta")}}))),
            0);
  auto index = Load();
  ASSERT_NE(index, nullptr);
  const PackageFile shared = Owner(*index, "/usr/bin/shared");
  EXPECT_EQ(shared.package, "delta");
  EXPECT_EQ(Md5Hex(shared.md5), DpkgTestRoot::Md5Of(dpkg_->At("/usr/bin/shared")));
  const PackageFile moved = Owner(*index, "/usr/bin/shared.gamma");
  EXPECT_EQ(moved.package, "gamma");
  EXPECT_EQ(Md5Hex(moved.md5), DpkgTestRoot::Md5Of(dpkg_->At("/usr/bin/shared.gamma")));
  EXPECT_EQ(index->stats().diverted, 1u);
}

TEST_F(PackageDatabaseTest, FileTakenOverWithReplacesBelongsToTheNewPackage) {
  ASSERT_EQ(
      dpkg_->Install(dpkg_->Build(DpkgTestRoot::Make(
          "zeta", {{"/usr/bin/zeta-tool", Script("zeta")}, {"/usr/bin/zeta-own", Script("own")}}))),
      0);
  auto eta = DpkgTestRoot::Make("eta", {{"/usr/bin/zeta-tool", Script("eta")}});
  eta.replaces = "zeta";
  ASSERT_EQ(dpkg_->Install(dpkg_->Build(eta)), 0);
  // dpkg keeps zeta installed (it still has a file of its own) and its md5sums untouched;
  // only its .list loses the file.
  std::ifstream md5sums(dpkg_->admindir() / "info/zeta.md5sums");
  std::string zeta_md5sums((std::istreambuf_iterator<char>(md5sums)), {});
  ASSERT_NE(zeta_md5sums.find("usr/bin/zeta-tool"), std::string::npos);
  auto index = Load();
  ASSERT_NE(index, nullptr);
  const PackageFile tool = Owner(*index, "/usr/bin/zeta-tool");
  EXPECT_EQ(tool.package, "eta");
  EXPECT_EQ(Md5Hex(tool.md5), DpkgTestRoot::Md5Of(dpkg_->At("/usr/bin/zeta-tool")));
  EXPECT_EQ(index->stats().md5sums_not_listed, 1u);
}

TEST_F(PackageDatabaseTest, RemovalAndUpgradeShowInTheNextLoad) {
  ASSERT_EQ(dpkg_->Install(dpkg_->Build(Alpha("1.0"))), 0);
  auto before = Load();
  ASSERT_NE(before, nullptr);
  const Md5Digest v1 = Owner(*before, "/usr/bin/alpha-tool").md5;

  ASSERT_EQ(dpkg_->Install(dpkg_->Build(Alpha("2.0"))), 0);
  auto upgraded = Load();
  ASSERT_NE(upgraded, nullptr);
  const Md5Digest v2 = Owner(*upgraded, "/usr/bin/alpha-tool").md5;
  EXPECT_NE(v1, v2);
  EXPECT_EQ(Md5Hex(v2), DpkgTestRoot::Md5Of(dpkg_->At("/usr/bin/alpha-tool")));
  // The index loaded before is a snapshot: it still answers as it did.
  EXPECT_EQ(Owner(*before, "/usr/bin/alpha-tool").md5, v1);

  ASSERT_EQ(dpkg_->Remove("alpha"), 0);
  auto removed = Load();
  ASSERT_NE(removed, nullptr);
  // "deinstall ok config-files": the conffile stays on disk, but nothing is installed.
  EXPECT_TRUE(fs::exists(dpkg_->At("/etc/alpha/run.sh")));
  EXPECT_TRUE(removed->Lookup("/usr/bin/alpha-tool").empty());
  EXPECT_TRUE(removed->Lookup("/etc/alpha/run.sh").empty());
  EXPECT_EQ(removed->stats().packages, 0u);
}

TEST_F(PackageDatabaseTest, ChangesAreReportedAndTracked) {
  auto initial = Load();
  ASSERT_NE(initial, nullptr);
  EXPECT_EQ(initial->stats().packages, 0u);
  EXPECT_FALSE(database_->ChangedSinceLoad());
  ASSERT_EQ(dpkg_->Install(dpkg_->Build(Alpha())), 0);
  EXPECT_TRUE(database_->ChangedSinceLoad());  // events not read yet count too
  auto changed = database_->WaitForChange(std::chrono::seconds(5));
  ASSERT_TRUE(changed.has_value()) << changed.error().ToString();
  EXPECT_TRUE(*changed);
  EXPECT_TRUE(database_->ChangedSinceLoad());
  ASSERT_NE(Load(), nullptr);
  EXPECT_FALSE(database_->ChangedSinceLoad());
  // Nothing more happens: a wait times out.
  changed = database_->WaitForChange(std::chrono::milliseconds(50));
  ASSERT_TRUE(changed.has_value());
  EXPECT_FALSE(*changed);
}

TEST_F(PackageDatabaseTest, DpkgRunningWhileItsLockIsHeld) {
  ASSERT_EQ(dpkg_->Install(dpkg_->Build(Alpha())), 0);  // creates the lock file
  EXPECT_FALSE(database_->DpkgRunning());
  // Another process takes the lock the way dpkg does (fcntl write lock) and holds it.
  int ready[2];
  int release[2];
  ASSERT_EQ(::pipe(ready), 0);
  ASSERT_EQ(::pipe(release), 0);
  const pid_t child = ::fork();
  if (child == 0) {
    const int fd = ::open((dpkg_->admindir() / "lock").c_str(), O_RDWR);
    struct flock lock{};
    lock.l_type = F_WRLCK;
    lock.l_whence = SEEK_SET;
    const char ok = fd >= 0 && ::fcntl(fd, F_SETLK, &lock) == 0 ? 'y' : 'n';
    (void)::write(ready[1], &ok, 1);
    char wait = 0;
    (void)::read(release[0], &wait, 1);
    ::_exit(0);
  }
  char ok = 0;
  ASSERT_EQ(::read(ready[0], &ok, 1), 1);
  EXPECT_EQ(ok, 'y');
  EXPECT_TRUE(database_->DpkgRunning());
  (void)::write(release[1], "x", 1);
  int status = 0;
  ::waitpid(child, &status, 0);
  EXPECT_FALSE(database_->DpkgRunning());
  for (int fd : {ready[0], ready[1], release[0], release[1]}) {
    ::close(fd);
  }
}

TEST_F(PackageDatabaseTest, UnparsableStatusIsAnErrorAndAMissingDatabaseIsNotFound) {
  std::ofstream(dpkg_->admindir() / "status") << "Package: a\nthis is not a field\n";
  auto changed = database_->WaitForChange(std::chrono::seconds(5));
  ASSERT_TRUE(changed.has_value() && *changed);
  auto index = database_->Load();
  ASSERT_FALSE(index.has_value());
  EXPECT_EQ(index.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(index.error().message().find("line 2"), std::string::npos);
  EXPECT_FALSE(database_->ChangedSinceLoad());  // a failed load counts as a load

  auto none = CreatePackageDatabase(Options(dir_.path() / "no-such-root"));
  ASSERT_FALSE(none.has_value());
  EXPECT_EQ(none.error().code(), ErrorCode::kNotFound);
}

}  // namespace
}  // namespace ward::platform
