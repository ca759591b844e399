// SPDX-License-Identifier: Apache-2.0
#include "ward/policy/settings_plan.h"

#include <gtest/gtest.h>

namespace ward::policy {
namespace {

v1::SettingLock Lock(const std::string& name, bool locked) {
  v1::SettingLock lock;
  lock.set_name(name);
  lock.set_locked(locked);
  return lock;
}

TEST(SettingsPlanTest, CompilesTypedValuesSortedByName) {
  v1::SettingsPolicy settings;
  auto* a = settings.add_settings();
  *a = Lock("software.install", true);
  a->set_bool_value(false);
  auto* b = settings.add_settings();
  *b = Lock("screensaver.idle_delay_seconds", false);
  b->set_int_value(300);
  auto* c = settings.add_settings();
  *c = Lock("desktop.wallpaper", true);
  c->set_string_value("C:\\Windows\\Web\\college.jpg");
  auto plan = CompileSettingsPlan(settings);
  ASSERT_TRUE(plan.has_value()) << plan.error().ToString();
  const SettingsPlan expected{{
      {"desktop.wallpaper", std::string("C:\\Windows\\Web\\college.jpg"), true},
      {"screensaver.idle_delay_seconds", std::int64_t{300}, false},
      {"software.install", false, true},
  }};
  EXPECT_EQ(*plan, expected);
}

TEST(SettingsPlanTest, RefusesWhatTheLoaderRefuses) {
  const auto refused = [](auto fill) {
    v1::SettingsPolicy settings;
    fill(*settings.add_settings());
    return !CompileSettingsPlan(settings).has_value();
  };
  EXPECT_TRUE(refused([](v1::SettingLock& l) { l.set_name("desktop.nope"); }));
  EXPECT_TRUE(refused([](v1::SettingLock& l) { l.set_name("software.install"); }));  // no value
  EXPECT_TRUE(refused([](v1::SettingLock& l) {
    l.set_name("software.install");
    l.set_int_value(1);
  }));
  EXPECT_TRUE(refused([](v1::SettingLock& l) {
    l.set_name("screensaver.idle_delay_seconds");
    l.set_int_value(5);
  }));
  EXPECT_TRUE(refused([](v1::SettingLock& l) {
    l.set_name("desktop.wallpaper");
    l.set_string_value("relative.png");
  }));
  EXPECT_TRUE(refused([](v1::SettingLock& l) {
    l.set_name("desktop.wallpaper");
    l.set_string_value("/x.png\n[evil]");
  }));
  v1::SettingsPolicy twice;
  for (int i = 0; i < 2; ++i) {
    auto* lock = twice.add_settings();
    lock->set_name("software.install");
    lock->set_bool_value(true);
  }
  EXPECT_FALSE(CompileSettingsPlan(twice).has_value());
}

}  // namespace
}  // namespace ward::policy
