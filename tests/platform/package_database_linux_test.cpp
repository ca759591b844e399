// SPDX-License-Identifier: Apache-2.0
// The package database read from what the real dpkg wrote: packages built with dpkg-deb and
// installed with dpkg into a temporary root (never the machine's own database).
#include "ward/platform/package_database.h"

#include <fcntl.h>
#include <sys/inotify.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <set>

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

  std::shared_ptr<const PackageIndex> Load(
      const PackageSelection& selection = PackageSelection::All()) {
    auto index = database_->Load(selection);
    EXPECT_TRUE(index.has_value()) << index.error().ToString();
    return index.has_value() ? *index : nullptr;
  }

  // Builds and installs `package`; dpkg's exit code.
  int Install(const DpkgTestRoot::Package& package) {
    return dpkg_->Install(dpkg_->Build(package));
  }

  // delta diverts /usr/bin/shared (whoever has it) to `to`, then installs its own copy.
  int DivertSharedAndInstallDelta(const std::string& to) {
    if (const int code =
            dpkg_->Divert("--package delta --divert " + to + " --rename --add /usr/bin/shared");
        code != 0) {
      return code;
    }
    const auto delta = DpkgTestRoot::Make("delta", {{"/usr/bin/shared", Script("delta")}});
    return Install(delta);
  }

  // zeta ships two programs; eta takes one of them over (Replaces: zeta).
  int InstallZetaThenEtaTakingZetaTool() {
    const auto zeta = DpkgTestRoot::Make(
        "zeta", {{"/usr/bin/zeta-tool", Script("zeta")}, {"/usr/bin/zeta-own", Script("own")}});
    if (const int code = Install(zeta); code != 0) {
      return code;
    }
    auto eta = DpkgTestRoot::Make("eta", {{"/usr/bin/zeta-tool", Script("eta")}});
    eta.replaces = "zeta";
    return Install(eta);
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
  ASSERT_EQ(Install(DpkgTestRoot::Make("gamma", {{"/usr/bin/shared", Script("gamma")}})), 0);
  ASSERT_EQ(DivertSharedAndInstallDelta("/usr/bin/shared.gamma"), 0);
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
  ASSERT_EQ(InstallZetaThenEtaTakingZetaTool(), 0);
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
  auto index = database_->Load(PackageSelection::All());
  ASSERT_FALSE(index.has_value());
  EXPECT_EQ(index.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(index.error().message().find("line 2"), std::string::npos);
  EXPECT_FALSE(database_->ChangedSinceLoad());  // a failed load counts as a load

  auto none = CreatePackageDatabase(Options(dir_.path() / "no-such-root"));
  ASSERT_FALSE(none.has_value());
  EXPECT_EQ(none.error().code(), ErrorCode::kNotFound);
}

// What a lookup answers, one line per owner, for comparing two indexes.
std::vector<std::string> Owners(const PackageIndex& index, const std::string& path,
                                const PackageSelection& only) {
  std::vector<std::string> out;
  for (const PackageFile& owner : index.Lookup(path)) {
    if (only.Contains(owner.package)) {
      out.push_back(std::string(owner.package) + ":" + std::string(owner.architecture) + " " +
                    Md5Hex(owner.md5) + (owner.conffile ? " conffile" : ""));
    }
  }
  return out;
}

// Every path worth asking about in the root: each file on disk (as the kernel reports it: the
// walk does not follow the bin link), each path a .list names, each diversion's two names,
// and the other spelling of each through the /usr merge.
std::set<std::string> PathsOf(const DpkgTestRoot& dpkg) {
  std::set<std::string> paths;
  for (const auto& entry : fs::recursive_directory_iterator(dpkg.root())) {
    if (!entry.is_directory()) {
      paths.insert("/" + fs::relative(entry.path(), dpkg.root()).string());
    }
  }
  for (const auto& entry : fs::directory_iterator(dpkg.admindir() / "info")) {
    if (entry.path().extension() == ".list") {
      std::ifstream in(entry.path());
      for (std::string line; std::getline(in, line);) {
        paths.insert(line);
      }
    }
  }
  std::ifstream diversions(dpkg.admindir() / "diversions");
  for (std::string line; std::getline(diversions, line);) {
    if (line.starts_with('/')) {
      paths.insert(line);
    }
  }
  std::set<std::string> spelled;
  for (const std::string& path : paths) {
    if (path.starts_with("/bin/")) {
      spelled.insert("/usr" + path);
    } else if (path.starts_with("/usr/bin/")) {
      spelled.insert(path.substr(4));
    }
  }
  paths.merge(spelled);
  return paths;
}

// The index of a few packages answers, for every path, what the index of all of them answers
// for those packages: through the /usr merge, diversions made by a package outside the
// selection (of a selected package's file) and by one inside it (of an unselected package's
// file), a local diversion, a file taken over with Replaces by an unselected package,
// conffiles, and a Multi-Arch: same package.
TEST_F(PackageDatabaseTest, IndexOfSomePackagesAnswersAsTheFullIndexForThem) {
  auto alpha = Alpha();
  alpha.files.push_back({"/usr/bin/shared", Script("alpha shared")});
  ASSERT_EQ(Install(alpha), 0);
  // delta (not selected) diverts alpha's /usr/bin/shared: alpha's copy is at shared.alpha.
  ASSERT_EQ(DivertSharedAndInstallDelta("/usr/bin/shared.alpha"), 0);
  // The administrator moves alpha's other program aside: a local diversion.
  ASSERT_EQ(dpkg_->Divert("--local --divert /usr/bin/alpha-other.local --rename --add "
                          "/usr/bin/alpha-other"),
            0);
  ASSERT_EQ(Install(DpkgTestRoot::Make(
                "beta", {{"/usr/bin/beta-tool", Script("beta")},
                         {"/bin/beta-tool2", Script("beta 2")},
                         {"/etc/cron.daily/beta", Script("beta cron"), true, true}})),
            0);
  // gamma (selected) diverts beta's /bin/beta-tool2 and ships its own.
  ASSERT_EQ(dpkg_->Divert("--package gamma --divert /bin/beta-tool2.real --rename --add "
                          "/bin/beta-tool2"),
            0);
  ASSERT_EQ(
      Install(DpkgTestRoot::Make("gamma", {{"/bin/beta-tool2", Script("gamma")},
                                           {"/etc/gamma.conf", "setting = 1\n", false, true}})),
      0);
  // eta (not selected) takes zeta-tool over from zeta (selected).
  ASSERT_EQ(InstallZetaThenEtaTakingZetaTool(), 0);
  auto lib = DpkgTestRoot::Make("libalpha1", {{"/usr/lib/libalpha.so.1", "ELF?", false}});
  lib.architecture = DpkgTestRoot::NativeArchitecture();
  lib.multi_arch = "same";
  ASSERT_EQ(Install(lib), 0);

  const auto full = Load();
  const PackageSelection selection =
      PackageSelection::Only({"zeta", "alpha", "libalpha1", "gamma", "alpha", "not-installed"});
  const auto lean = Load(selection);
  ASSERT_NE(full, nullptr);
  ASSERT_NE(lean, nullptr);
  EXPECT_EQ(lean->selection(), selection);
  EXPECT_TRUE(full->selection().all());

  const std::set<std::string> paths = PathsOf(*dpkg_);
  std::size_t owned = 0;
  for (const std::string& path : paths) {
    EXPECT_EQ(Owners(*lean, path, PackageSelection::All()), Owners(*full, path, selection)) << path;
    owned += lean->Lookup(path).size();
  }
  EXPECT_GE(paths.size(), 20u);
  EXPECT_EQ(owned, lean->stats().files);  // every entry of the lean index was asked about

  // The cases the comparison must have met, each answered as it should be.
  EXPECT_EQ(Owner(*lean, "/usr/bin/alpha-tool").package, "alpha");  // listed as /bin/alpha-tool
  EXPECT_TRUE(lean->Lookup("/usr/bin/shared").empty());             // delta's copy
  EXPECT_EQ(Owner(*full, "/usr/bin/shared").package, "delta");
  EXPECT_EQ(Owner(*lean, "/usr/bin/shared.alpha").package, "alpha");  // diverted by delta
  EXPECT_TRUE(lean->Lookup("/usr/bin/alpha-other").empty());          // a local diversion
  EXPECT_EQ(Owner(*lean, "/usr/bin/alpha-other.local").package, "alpha");
  EXPECT_EQ(Owner(*lean, "/usr/bin/beta-tool2").package, "gamma");  // gamma's diversion
  EXPECT_TRUE(lean->Lookup("/usr/bin/beta-tool2.real").empty());    // beta's copy
  EXPECT_EQ(Owner(*full, "/usr/bin/beta-tool2.real").package, "beta");
  EXPECT_TRUE(Owner(*lean, "/etc/alpha/run.sh").conffile);
  EXPECT_TRUE(Owner(*lean, "/etc/gamma.conf").conffile);
  EXPECT_TRUE(lean->Lookup("/usr/bin/beta-tool").empty());  // not selected
  EXPECT_TRUE(lean->Lookup("/etc/cron.daily/beta").empty());
  EXPECT_EQ(Owner(*full, "/etc/cron.daily/beta").package, "beta");
  EXPECT_TRUE(lean->Lookup("/usr/bin/zeta-tool").empty());  // eta's now
  EXPECT_EQ(Owner(*full, "/usr/bin/zeta-tool").package, "eta");
  EXPECT_EQ(Owner(*lean, "/usr/bin/zeta-own").package, "zeta");
  EXPECT_EQ(Owner(*lean, "/usr/lib/libalpha.so.1").package, "libalpha1");

  EXPECT_EQ(lean->stats().packages, 4u);
  EXPECT_EQ(lean->stats().packages_not_selected, 3u);  // beta, delta, eta
  EXPECT_EQ(full->stats().packages, 7u);
  EXPECT_EQ(full->stats().packages_not_selected, 0u);
  EXPECT_LT(lean->stats().files, full->stats().files);
  EXPECT_LT(lean->stats().bytes, full->stats().bytes);
}

TEST_F(PackageDatabaseTest, InfoFilesOfUnselectedPackagesAreNotOpened) {
  ASSERT_EQ(Install(Alpha()), 0);
  ASSERT_EQ(Install(DpkgTestRoot::Make("beta", {{"/usr/bin/beta-tool", Script("b")}})), 0);
  const int watch = ::inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
  ASSERT_GE(watch, 0);
  ASSERT_GE(::inotify_add_watch(watch, (dpkg_->admindir() / "info").c_str(), IN_OPEN), 0);
  const auto index = Load(PackageSelection::Only({"alpha"}));
  ASSERT_NE(index, nullptr);
  std::set<std::string> opened;
  alignas(inotify_event) char buffer[8192];
  for (ssize_t n; (n = ::read(watch, buffer, sizeof(buffer))) > 0;) {
    for (ssize_t at = 0; at < n;) {
      const auto* event = reinterpret_cast<const inotify_event*>(buffer + at);
      at += static_cast<ssize_t>(sizeof(inotify_event) + event->len);
      if (event->len > 0) {
        opened.insert(event->name);
      }
    }
  }
  ::close(watch);
  EXPECT_EQ(opened, (std::set<std::string>{"alpha.list", "alpha.md5sums"}));
  EXPECT_EQ(Owner(*index, "/usr/bin/alpha-tool").package, "alpha");
  EXPECT_EQ(index->stats().packages_not_selected, 1u);
}

}  // namespace
}  // namespace ward::platform
