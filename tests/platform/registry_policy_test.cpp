// SPDX-License-Identifier: Apache-2.0
// The Windows registry policy of the sample policies, compared with golden files of the expected
// registry state (tests/testdata/settings/windows/<policy>.reg). Portable: runs on Linux and
// under Wine. WARD_UPDATE_GOLDENS=1 rewrites the golden files; review the diff by hand.
#include "ward/platform/registry_policy.h"

#include <cstdlib>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "registry_golden.h"
#include "ward/policy/settings_catalog.h"

namespace ward::platform {
namespace {

class RegistryPolicyGoldenTest : public ::testing::TestWithParam<const char*> {};

TEST_P(RegistryPolicyGoldenTest, SamplePolicyRendersAsTheGoldenRegistryState) {
  auto plan = SamplePolicyPlan(GetParam());
  ASSERT_TRUE(plan.has_value()) << plan.error().ToString();
  const std::string actual = FormatRegistryPolicy(RenderRegistryPolicy(*plan));
  const auto golden = RegistryGoldenPath(GetParam());
  if (std::getenv("WARD_UPDATE_GOLDENS") != nullptr) {
    std::ofstream(golden, std::ios::binary) << actual;
  }
  EXPECT_EQ(actual, ReadText(golden)) << "golden: " << golden.string();
}

INSTANTIATE_TEST_SUITE_P(Samples, RegistryPolicyGoldenTest,
                         ::testing::Values("sample-under18", "example-adult"));

TEST(RegistryPolicyTest, EncodesEachCatalogueSettingAsGroupPolicyDoes) {
  const policy::SettingsPlan plan{{
      {"desktop.command_line", false, true},
      {"desktop.user_switching", false, true},
      {"desktop.wallpaper", std::string("C:\\Windows\\Web\\college.jpg"), true},
      {"network.configure", false, true},
      {"screensaver.enabled", true, true},
      {"screensaver.idle_delay_seconds", std::int64_t{900}, true},
      {"screensaver.lock_enabled", false, true},
      {"software.install", true, true},
  }};
  EXPECT_EQ(
      FormatRegistryPolicy(RenderRegistryPolicy(plan)),
      "Windows Registry Editor Version 5.00\n"
      "\n[HKEY_LOCAL_MACHINE\\Software\\Microsoft\\Windows\\CurrentVersion\\Policies\\System]\n"
      "\"HideFastUserSwitching\"=dword:00000001\n"
      "\n[HKEY_LOCAL_MACHINE\\Software\\Policies\\Microsoft\\Windows\\Installer]\n"
      "\"DisableMSI\"=dword:00000000\n"
      "\n[HKEY_CURRENT_USER\\Software\\Microsoft\\Windows\\CurrentVersion\\Policies\\System]\n"
      "\"Wallpaper\"=\"C:\\\\Windows\\\\Web\\\\college.jpg\"\n"
      "\"WallpaperStyle\"=\"4\"\n"
      "\n[HKEY_CURRENT_USER\\Software\\Policies\\Microsoft\\Windows\\Control Panel\\Desktop]\n"
      "\"ScreenSaveActive\"=\"1\"\n"
      "\"ScreenSaveTimeOut\"=\"900\"\n"
      "\"ScreenSaverIsSecure\"=\"0\"\n"
      "\n[HKEY_CURRENT_USER\\Software\\Policies\\Microsoft\\Windows\\Network Connections]\n"
      "\"NC_LanChangeProperties\"=dword:00000000\n"
      "\n[HKEY_CURRENT_USER\\Software\\Policies\\Microsoft\\Windows\\System]\n"
      "\"DisableCMD\"=dword:00000001\n");
}

TEST(RegistryPolicyTest, SaysWhatWindowsCannotExpress) {
  const policy::SettingsPlan plan{{
      {"datetime.change", false, true},
      {"desktop.wallpaper", std::string("/usr/share/backgrounds/college.png"), true},
      {"screensaver.idle_delay_seconds", std::int64_t{600}, false},
  }};
  const RegistryPolicy rendered = RenderRegistryPolicy(plan);
  EXPECT_TRUE(rendered.values.empty());
  ASSERT_EQ(rendered.not_enforced.size(), 3u);
  EXPECT_NE(rendered.not_enforced[0].reason.find("SeSystemtimePrivilege"), std::string::npos);
  EXPECT_NE(rendered.not_enforced[1].reason.find("not a Windows path"), std::string::npos);
  EXPECT_NE(rendered.not_enforced[2].reason.find("locked: false"), std::string::npos);
}

TEST(RegistryPolicyTest, EveryCatalogueSettingIsWrittenOrExplained) {
  for (const policy::SettingInfo& info : policy::SettingsCatalog()) {
    policy::SettingValue value = true;
    if (info.type == policy::SettingType::kInt) {
      value = info.min_int;
    } else if (info.type == policy::SettingType::kString) {
      value = std::string("C:\\x.jpg");
    }
    const RegistryPolicy rendered = RenderRegistryPolicy({{{std::string(info.name), value, true}}});
    EXPECT_EQ(rendered.values.empty(), rendered.not_enforced.size() == 1u) << info.name;
    if (!rendered.not_enforced.empty()) {
      EXPECT_TRUE(rendered.not_enforced[0].reason.starts_with("not available on Windows: "));
    }
  }
}

}  // namespace
}  // namespace ward::platform
