// SPDX-License-Identifier: Apache-2.0
#include "ward/policy/settings_catalog.h"

#include <algorithm>

#include <gtest/gtest.h>

namespace ward::policy {
namespace {

TEST(SettingsCatalogTest, HasTheRequiredSettingsWithTypes) {
  const std::pair<const char*, SettingType> required[] = {
      {"desktop.wallpaper", SettingType::kString},
      {"screensaver.enabled", SettingType::kBool},
      {"screensaver.idle_delay_seconds", SettingType::kInt},
      {"screensaver.lock_enabled", SettingType::kBool},
      {"software.install", SettingType::kBool},
      {"network.configure", SettingType::kBool},
      {"datetime.change", SettingType::kBool},
  };
  for (const auto& [name, type] : required) {
    const SettingInfo* info = FindSetting(name);
    ASSERT_NE(info, nullptr) << name;
    EXPECT_EQ(info->type, type) << name;
    EXPECT_FALSE(info->description.empty()) << name;
  }
  EXPECT_EQ(FindSetting("desktop.wallpaper_locked"), nullptr);
  EXPECT_EQ(FindSetting(""), nullptr);
}

TEST(SettingsCatalogTest, EveryEntryHasALinuxMappingAndAWindowsMappingOrNote) {
  for (const SettingInfo& info : SettingsCatalog()) {
    EXPECT_TRUE(!info.dconf.empty() || !info.polkit_actions.empty()) << info.name;
    EXPECT_TRUE(info.windows.encoding != RegistryEncoding::kNone || !info.windows_note.empty())
        << info.name;
    for (const DconfKey& key : info.dconf) {
      EXPECT_TRUE(key.path.starts_with("/org/")) << info.name;
      EXPECT_EQ(key.gvariant_type.size(), 1u) << info.name;
    }
    if (info.type == SettingType::kInt) {
      EXPECT_LT(info.min_int, info.max_int) << info.name;
    }
  }
  EXPECT_TRUE(std::ranges::is_sorted(SettingsCatalog(), {}, &SettingInfo::name));
}

}  // namespace
}  // namespace ward::policy
