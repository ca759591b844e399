// SPDX-License-Identifier: Apache-2.0
// The dpkg parsers and the index, on text written here (the real dpkg is in
// package_database_linux_test.cpp).
#include "ward/platform/dpkg_database.h"

#include <gtest/gtest.h>

namespace ward::platform {
namespace {

constexpr std::string_view kLsMd5 = "3b9f5d8a8e1c2f4a6b7c8d9e0f1a2b3c";
constexpr std::string_view kConfMd5 = "00112233445566778899aabbccddeeff";

Md5Digest Md5(std::string_view hex) { return ParseMd5Hex(hex).value(); }

DpkgPackage Installed(std::string name, std::string arch = "all") {
  DpkgPackage p;
  p.name = std::move(name);
  p.architecture = std::move(arch);
  p.want = "install";
  p.flag = "ok";
  p.state = "installed";
  return p;
}

TEST(DpkgStatusTest, ParsesRecordsStatusConffilesAndMultiArch) {
  const std::string text =
      "Package: libfoo1\n"
      "Status: install ok installed\n"
      "Priority: optional\n"
      "Architecture: amd64\n"
      "Multi-Arch: same\n"
      "Version: 1.2-3\n"
      "Conffiles:\n"
      " /etc/foo/foo.conf " +
      std::string(kConfMd5) +
      "\n"
      " /etc/foo/old name.conf " +
      std::string(kConfMd5) +
      " obsolete\n"
      " /etc/foo/new.conf newconffile\n"
      "Description: a library\n"
      " with a long description\n"
      " .\n"
      " over lines\n"
      "\n"
      "package: removed\n"
      "status: deinstall ok config-files\n"
      "architecture: all\n";
  auto parsed = ParseDpkgStatus(text);
  ASSERT_TRUE(parsed.has_value()) << parsed.error().ToString();
  ASSERT_EQ(parsed->size(), 2u);
  const DpkgPackage& foo = (*parsed)[0];
  EXPECT_EQ(foo.name, "libfoo1");
  EXPECT_EQ(foo.architecture, "amd64");
  EXPECT_EQ(foo.version, "1.2-3");
  EXPECT_TRUE(foo.multi_arch_same);
  EXPECT_EQ(foo.InfoName(), "libfoo1:amd64");
  EXPECT_TRUE(foo.Installed());
  ASSERT_EQ(foo.conffiles.size(), 3u);
  EXPECT_EQ(foo.conffiles[0].path, "/etc/foo/foo.conf");
  EXPECT_EQ(foo.conffiles[0].md5, Md5(kConfMd5));
  EXPECT_FALSE(foo.conffiles[0].obsolete);
  EXPECT_EQ(foo.conffiles[1].path, "/etc/foo/old name.conf");
  EXPECT_TRUE(foo.conffiles[1].obsolete);
  EXPECT_EQ(foo.conffiles[2].path, "/etc/foo/new.conf");
  EXPECT_FALSE(foo.conffiles[2].md5.has_value());
  const DpkgPackage& removed = (*parsed)[1];
  EXPECT_EQ(removed.name, "removed");
  EXPECT_EQ(removed.InfoName(), "removed");
  EXPECT_EQ(removed.state, "config-files");
  EXPECT_FALSE(removed.Installed());
}

TEST(DpkgStatusTest, InstalledMeansConfiguredFilesOnDisk) {
  DpkgPackage p = Installed("x");
  EXPECT_TRUE(p.Installed());
  p.want = "hold";
  EXPECT_TRUE(p.Installed());
  for (const char* state : {"triggers-pending", "triggers-awaited"}) {
    p.state = state;
    EXPECT_TRUE(p.Installed()) << state;
  }
  for (const char* state :
       {"unpacked", "half-configured", "half-installed", "config-files", "not-installed"}) {
    p.state = state;
    EXPECT_FALSE(p.Installed()) << state;
  }
  p = Installed("x");
  p.flag = "reinstreq";
  EXPECT_FALSE(p.Installed());
  p = Installed("x");
  p.want = "purge";
  EXPECT_FALSE(p.Installed());
}

TEST(DpkgStatusTest, RejectsLinesThatAreNotFields) {
  auto parsed = ParseDpkgStatus("Package: a\nnot a field\n");
  ASSERT_FALSE(parsed.has_value());
  EXPECT_NE(parsed.error().message().find("line 2"), std::string::npos);
  EXPECT_FALSE(ParseDpkgStatus(" continuation first\n").has_value());
  EXPECT_FALSE(ParseDpkgStatus(": no name\n").has_value());
}

TEST(DpkgStatusTest, SkipsStanzasWithoutAPackageAndEmptyInput) {
  auto parsed = ParseDpkgStatus("Status: install ok installed\n\n\n");
  ASSERT_TRUE(parsed.has_value());
  EXPECT_TRUE(parsed->empty());
  ASSERT_TRUE(ParseDpkgStatus("").has_value());
}

TEST(DpkgListTest, KeepsAbsolutePathsOnly) {
  const auto paths = ParseDpkgList("/.\n/usr\n/usr/bin/a b\n\nrelative\n/usr/bin/c");
  ASSERT_EQ(paths.size(), 3u);
  EXPECT_EQ(paths[0], "/usr");
  EXPECT_EQ(paths[1], "/usr/bin/a b");
  EXPECT_EQ(paths[2], "/usr/bin/c");
}

TEST(DpkgMd5sumsTest, ParsesLinesAndCountsMalformedOnes) {
  const std::string text = std::string(kLsMd5) + "  usr/bin/ls\n" + std::string(kConfMd5) +
                           " *./usr/bin/with space\n" + "nothex" + std::string(26, '0') +
                           "  usr/bin/x\n" + std::string(kLsMd5) + " usr/bin/one-space\n" +
                           std::string(kLsMd5) + "  \n\n";
  const DpkgMd5sums parsed = ParseDpkgMd5sums(text);
  ASSERT_EQ(parsed.files.size(), 2u);
  EXPECT_EQ(parsed.files[0].path, "usr/bin/ls");
  EXPECT_EQ(parsed.files[0].md5, Md5(kLsMd5));
  EXPECT_EQ(parsed.files[1].path, "usr/bin/with space");
  EXPECT_EQ(parsed.files[1].md5, Md5(kConfMd5));
  EXPECT_EQ(parsed.malformed_lines, 3u);
}

TEST(DpkgDiversionsTest, ParsesTriplets) {
  auto parsed = ParseDpkgDiversions("/usr/bin/a\n/usr/bin/a.real\npkg\n/etc/b\n/etc/b.orig\n:\n");
  ASSERT_TRUE(parsed.has_value()) << parsed.error().ToString();
  ASSERT_EQ(parsed->size(), 2u);
  EXPECT_EQ((*parsed)[0].from, "/usr/bin/a");
  EXPECT_EQ((*parsed)[0].to, "/usr/bin/a.real");
  EXPECT_FALSE((*parsed)[0].local());
  EXPECT_TRUE((*parsed)[1].local());
  EXPECT_FALSE(ParseDpkgDiversions("/a\n/b\n").has_value());
  EXPECT_FALSE(ParseDpkgDiversions("a\n/b\npkg\n").has_value());
  EXPECT_TRUE(ParseDpkgDiversions("").has_value());
}

TEST(PackageIndexTest, OwnerIsThePackageWhoseListNamesThePath) {
  PackageIndexBuilder builder({}, {});
  // "old" still has the file in its md5sums, but its .list no longer names it: "new" took it
  // over (Replaces), and only "new"'s digest counts.
  builder.AddPackage(
      Installed("old"), "/.\n/usr\n/usr/bin\n/usr/bin/old-tool\n",
      std::string(kConfMd5) + "  usr/bin/tool\n" + std::string(kConfMd5) + "  usr/bin/old-tool\n");
  builder.AddPackage(Installed("new"), "/usr/bin/tool\n", std::string(kLsMd5) + "  usr/bin/tool\n");
  auto index = builder.Build();
  const auto owners = index->Lookup("/usr/bin/tool");
  ASSERT_EQ(owners.size(), 1u);
  EXPECT_EQ(owners[0].package, "new");
  EXPECT_EQ(owners[0].md5, Md5(kLsMd5));
  EXPECT_FALSE(owners[0].conffile);
  EXPECT_EQ(index->Lookup("/usr/bin/old-tool").at(0).package, "old");
  EXPECT_EQ(index->stats().md5sums_not_listed, 1u);
  EXPECT_EQ(index->stats().files, 2u);
  EXPECT_TRUE(index->Lookup("/usr/bin").empty());  // directories have no digest
  EXPECT_TRUE(index->Lookup("/usr/bin/none").empty());
  EXPECT_TRUE(index->Lookup("/nowhere/tool").empty());
  EXPECT_TRUE(index->Lookup("usr/bin/tool").empty());
  EXPECT_TRUE(index->Lookup("").empty());
}

TEST(PackageIndexTest, ConffilesTakeTheirDigestFromStatus) {
  DpkgPackage p = Installed("cron-job");
  p.conffiles.push_back({"/etc/cron.daily/job", Md5(kConfMd5), false});
  p.conffiles.push_back({"/etc/cron.daily/gone", Md5(kConfMd5), true});
  PackageIndexBuilder builder({}, {});
  builder.AddPackage(p, "/etc/cron.daily/job\n/etc/cron.daily/gone\n/usr/bin/job\n",
                     std::string(kLsMd5) + "  usr/bin/job\n");
  auto index = builder.Build();
  const auto job = index->Lookup("/etc/cron.daily/job");
  ASSERT_EQ(job.size(), 1u);
  EXPECT_TRUE(job[0].conffile);
  EXPECT_EQ(job[0].md5, Md5(kConfMd5));
  EXPECT_TRUE(index->Lookup("/etc/cron.daily/gone").empty());  // obsolete
  EXPECT_EQ(index->stats().conffiles, 1u);
}

TEST(PackageIndexTest, PackageWithoutMd5sumsIsNotIndexed) {
  PackageIndexBuilder builder({}, {});
  builder.AddPackage(Installed("bare"), "/usr/bin/bare\n", std::nullopt);
  builder.SkipPackageWithoutList();
  auto index = builder.Build();
  EXPECT_TRUE(index->Lookup("/usr/bin/bare").empty());
  EXPECT_EQ(index->stats().packages_without_md5sums, 1u);
  EXPECT_EQ(index->stats().packages_without_list, 1u);
  EXPECT_EQ(index->stats().packages, 1u);
}

TEST(PackageIndexTest, DiversionsMoveOtherPackagesFilesOnly) {
  PackageIndexBuilder builder(
      {{"/usr/bin/shared", "/usr/bin/shared.orig", "diverter"}, {"/etc/x", "/etc/x.local", ":"}},
      {});
  builder.AddPackage(Installed("diverter"), "/usr/bin/shared\n",
                     std::string(kLsMd5) + "  usr/bin/shared\n");
  builder.AddPackage(
      Installed("original"), "/usr/bin/shared\n/etc/x\n",
      std::string(kConfMd5) + "  usr/bin/shared\n" + std::string(kConfMd5) + "  etc/x\n");
  auto index = builder.Build();
  const auto shared = index->Lookup("/usr/bin/shared");
  ASSERT_EQ(shared.size(), 1u);
  EXPECT_EQ(shared[0].package, "diverter");
  const auto moved = index->Lookup("/usr/bin/shared.orig");
  ASSERT_EQ(moved.size(), 1u);
  EXPECT_EQ(moved[0].package, "original");
  EXPECT_EQ(moved[0].md5, Md5(kConfMd5));
  // A local diversion (by the administrator) moves every package's copy.
  EXPECT_TRUE(index->Lookup("/etc/x").empty());
  EXPECT_EQ(index->Lookup("/etc/x.local").at(0).package, "original");
  EXPECT_EQ(index->stats().diverted, 2u);
}

TEST(PackageIndexTest, AliasedDirectoriesAreLookedUpByTheirTarget) {
  PackageIndexBuilder builder({}, {{"/bin", "/usr/bin"}, {"/lib64", "/usr/lib64"}});
  builder.AddPackage(Installed("coreutils", "amd64"), "/bin\n/bin/ls\n/binx/tool\n",
                     std::string(kLsMd5) + "  bin/ls\n" + std::string(kLsMd5) + "  binx/tool\n");
  // A later package shipping the same file under /usr: the /usr merge made them one file.
  builder.AddPackage(Installed("aaa-mover"), "/usr/bin/ls\n",
                     std::string(kConfMd5) + "  usr/bin/ls\n");
  auto index = builder.Build();
  EXPECT_TRUE(index->Lookup("/bin/ls").empty());
  const auto owners = index->Lookup("/usr/bin/ls");
  ASSERT_EQ(owners.size(), 2u);
  EXPECT_EQ(owners[0].package, "aaa-mover");  // sorted by name
  EXPECT_EQ(owners[1].package, "coreutils");
  EXPECT_EQ(owners[1].architecture, "amd64");
  EXPECT_EQ(owners[1].md5, Md5(kLsMd5));
  // Only whole components are aliased.
  EXPECT_EQ(index->Lookup("/binx/tool").at(0).package, "coreutils");
  EXPECT_EQ(index->stats().aliased, 1u);
}

TEST(PackageSelectionTest, NamesAreSortedOnceAndAllContainsEverything) {
  const PackageSelection some = PackageSelection::Only({"zsh", "bash", "zsh", "coreutils"});
  EXPECT_FALSE(some.all());
  EXPECT_EQ(some.names(), (std::vector<std::string>{"bash", "coreutils", "zsh"}));
  EXPECT_TRUE(some.Contains("coreutils"));
  EXPECT_FALSE(some.Contains("core"));
  EXPECT_FALSE(some.Contains("coreutils:amd64"));  // names have no architecture
  EXPECT_EQ(some, PackageSelection::Only({"coreutils", "zsh", "bash"}));
  EXPECT_FALSE(PackageSelection::Only({}).Contains("bash"));
  EXPECT_TRUE(PackageSelection::All().all());
  EXPECT_TRUE(PackageSelection::All().Contains("anything"));
  EXPECT_NE(PackageSelection::All(), PackageSelection::Only({}));
}

// A diversion by a package outside the selection still moves a selected package's file, and
// one by a selected package still keeps the original name for it alone.
TEST(PackageIndexTest, SelectionLeavesOtherPackagesOutAndStillAppliesTheirDiversions) {
  const std::vector<DpkgDiversion> diversions = {
      {"/usr/bin/shared", "/usr/bin/shared.orig", "outsider"},
      {"/usr/bin/theirs", "/usr/bin/theirs.orig", "chosen"}};
  PackageIndexBuilder builder(diversions, {{"/bin", "/usr/bin"}},
                              PackageSelection::Only({"chosen", "multi"}));
  EXPECT_TRUE(builder.Selected("chosen"));
  EXPECT_FALSE(builder.Selected("outsider"));
  builder.AddPackage(
      Installed("outsider"), "/usr/bin/shared\n/usr/bin/theirs\n",
      std::string(kLsMd5) + "  usr/bin/shared\n" + std::string(kLsMd5) + "  usr/bin/theirs\n");
  builder.AddPackage(Installed("chosen"), "/usr/bin/shared\n/bin/chosen-tool\n/usr/bin/theirs\n",
                     std::string(kConfMd5) + "  usr/bin/shared\n" + std::string(kConfMd5) +
                         "  bin/chosen-tool\n" + std::string(kConfMd5) + "  usr/bin/theirs\n");
  builder.AddPackage(Installed("multi", "amd64"), "/usr/lib/libm.so\n",
                     std::string(kLsMd5) + "  usr/lib/libm.so\n");
  builder.AddPackage(Installed("multi", "i386"), "/usr/lib/libm.so\n",
                     std::string(kLsMd5) + "  usr/lib/libm.so\n");
  builder.SkipPackageNotSelected();  // as the loader counts one it did not read
  auto index = builder.Build();
  EXPECT_EQ(index->selection(), PackageSelection::Only({"multi", "chosen"}));
  EXPECT_TRUE(index->Lookup("/usr/bin/shared").empty());  // outsider's copy: not indexed
  const auto moved = index->Lookup("/usr/bin/shared.orig");
  ASSERT_EQ(moved.size(), 1u);
  EXPECT_EQ(moved[0].package, "chosen");
  const auto kept = index->Lookup("/usr/bin/theirs");
  ASSERT_EQ(kept.size(), 1u);
  EXPECT_EQ(kept[0].package, "chosen");
  EXPECT_TRUE(index->Lookup("/usr/bin/theirs.orig").empty());
  EXPECT_EQ(index->Lookup("/usr/bin/chosen-tool").at(0).package, "chosen");  // the /usr merge
  EXPECT_EQ(index->Lookup("/usr/lib/libm.so").size(), 2u);                   // both architectures
  EXPECT_EQ(index->stats().packages, 3u);
  EXPECT_EQ(index->stats().packages_not_selected, 2u);
  EXPECT_EQ(index->stats().files, 5u);
}

TEST(PackageIndexTest, ReportsItsMemory) {
  PackageIndexBuilder builder({}, {});
  std::string list;
  std::string md5sums;
  for (int i = 0; i < 1000; ++i) {
    list += "/usr/share/doc/p/file" + std::to_string(i) + "\n";
    md5sums += std::string(kLsMd5) + "  usr/share/doc/p/file" + std::to_string(i) + "\n";
  }
  builder.AddPackage(Installed("p"), list, md5sums);
  auto index = builder.Build();
  EXPECT_EQ(index->stats().files, 1000u);
  // At least the entries and the names; far less than the text it was built from per file.
  EXPECT_GT(index->stats().bytes, 1000u * 32u);
  EXPECT_LT(index->stats().bytes, md5sums.size());
  EXPECT_EQ(index->Lookup("/usr/share/doc/p/file999").size(), 1u);
}

}  // namespace
}  // namespace ward::platform
