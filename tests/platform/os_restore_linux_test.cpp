// SPDX-License-Identifier: Apache-2.0
#include "ward/platform/os_restore.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "ward/testing/temp_dir.h"

namespace ward::platform {
namespace {

namespace fs = std::filesystem;

void Write(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  std::ofstream(path) << text;
}

std::string Read(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

const std::vector<ManagedFile> kWardFiles = {
    {"etc/dconf/profile/user", "user-db:user\nsystem-db:ward\n"},
    {"etc/dconf/db/ward.d/00-ward", "[org/gnome/desktop/background]\n"},
    {"etc/dconf/db/ward.d/locks/00-ward", "/org/gnome/desktop/background/picture-uri\n"},
    {"etc/polkit-1/rules.d/49-ward.rules", "// Managed by Ward\n"},
};

// A directory shaped like sysfs: two root hubs Ward closed, and a device.
class OsRestoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* hub : {"usb1", "usb2"}) {
      Write(sys() / "bus/usb/devices" / hub / "authorized_default", "0\n");
      Write(sys() / "bus/usb/devices" / hub / "interface_authorized_default", "0\n");
    }
    Write(sys() / "bus/usb/devices/1-1/authorized", "0\n");
    for (const ManagedFile& file : kWardFiles) {
      Write(root() / file.path, file.content);
    }
    Write(root() / "etc/dconf/db/ward", "compiled");
  }
  fs::path sys() const { return dir_.path() / "sys"; }
  fs::path root() const { return dir_.path() / "root"; }
  OsRestoreReport Restore() {
    return RestoreOsDefaults(
        {.sysfs_root = sys(), .settings_root = root(), .settings_files = kWardFiles});
  }

  testing::TempDir dir_;
};

TEST_F(OsRestoreTest, PutsRootHubsBackToTheKernelDefaultAndDeletesWardsSettings) {
  Write(sys() / "module/usbcore/parameters/authorized_default", "-1\n");
  const OsRestoreReport report = Restore();
  EXPECT_TRUE(report.problems.empty()) << report.problems.front();
  for (const char* hub : {"usb1", "usb2"}) {
    EXPECT_EQ(Read(sys() / "bus/usb/devices" / hub / "authorized_default"), "1");
    EXPECT_EQ(Read(sys() / "bus/usb/devices" / hub / "interface_authorized_default"), "1");
  }
  // A device is not a root hub: left as it is (it is blocked until plugged in again).
  EXPECT_EQ(Read(sys() / "bus/usb/devices/1-1/authorized"), "0\n");
  for (const ManagedFile& file : kWardFiles) {
    EXPECT_FALSE(fs::exists(root() / file.path)) << file.path;
  }
  EXPECT_FALSE(fs::exists(root() / "etc/dconf/db/ward"));
  EXPECT_FALSE(fs::exists(root() / "etc/dconf/db/ward.d"));
  ASSERT_EQ(report.restored.size(), 3u);
  EXPECT_NE(report.restored[0].find("2 root hub(s)"), std::string::npos) << report.restored[0];
  EXPECT_NE(report.restored[1].find("5 of Ward's"), std::string::npos) << report.restored[1];
}

TEST_F(OsRestoreTest, KeepsASiteThatClosedUsbItselfClosed) {
  Write(sys() / "module/usbcore/parameters/authorized_default", "0\n");
  EXPECT_TRUE(Restore().problems.empty());
  EXPECT_EQ(Read(sys() / "bus/usb/devices/usb1/authorized_default"), "0");
}

TEST_F(OsRestoreTest, LeavesADconfProfileThatIsNotWards) {
  Write(root() / "etc/dconf/profile/user", "user-db:user\nsystem-db:site\n");
  const OsRestoreReport report = Restore();
  EXPECT_TRUE(report.problems.empty());
  EXPECT_EQ(Read(root() / "etc/dconf/profile/user"), "user-db:user\nsystem-db:site\n");
  EXPECT_FALSE(fs::exists(root() / "etc/polkit-1/rules.d/49-ward.rules"));
}

TEST_F(OsRestoreTest, NoUsbBusIsNotAProblem) {
  fs::remove_all(sys() / "bus");
  const OsRestoreReport report = Restore();
  EXPECT_TRUE(report.problems.empty());
  EXPECT_NE(report.restored[0].find("no USB bus"), std::string::npos);
}

TEST_F(OsRestoreTest, ReportsAHubItCannotWrite) {
  fs::remove(sys() / "bus/usb/devices/usb2/authorized_default");
  const OsRestoreReport report = Restore();
  ASSERT_EQ(report.problems.size(), 1u);
  EXPECT_NE(report.problems[0].find("usb2"), std::string::npos);
  EXPECT_EQ(Read(sys() / "bus/usb/devices/usb1/authorized_default"), "1");
}

}  // namespace
}  // namespace ward::platform
