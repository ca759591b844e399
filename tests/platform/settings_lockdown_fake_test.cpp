// SPDX-License-Identifier: Apache-2.0
// The settings contract against the test-only fake (every OS).
#include <map>
#include <sstream>

#include "settings_lockdown_contract.h"
#include "ward/testing/fake_settings_lockdown.h"

namespace ward::platform {
namespace {

using ward::testing::FakeSettingsLockdown;

struct FakeBackend {
  static std::unique_ptr<SettingsLockdown> Create() {
    // The machine had its own screen-saver delay before Ward.
    return std::make_unique<FakeSettingsLockdown>(
        std::map<std::string, std::string>{{"screensaver.idle_delay_seconds", "42"}});
  }
  static void ChangeBehindWardsBack(SettingsLockdown& control) {
    static_cast<FakeSettingsLockdown&>(control).ChangeForTesting("desktop.command_line", "true");
  }
  static std::string Snapshot(SettingsLockdown& control) {
    std::ostringstream out;
    for (const auto& [place, value] :
         static_cast<FakeSettingsLockdown&>(control).MachineForTesting()) {
      out << place << "=" << value << "\n";
    }
    return out.str();
  }
  static void CleanUp() {}
};

INSTANTIATE_TYPED_TEST_SUITE_P(Fake, SettingsLockdownContractTest, FakeBackend);

TEST(FakeSettingsLockdownTest, UnlockedSettingsAreReportedNotEnforced) {
  FakeSettingsLockdown fake;
  auto report = fake.Apply({{{"desktop.wallpaper", std::string("/x.png"), false}}});
  ASSERT_TRUE(report.has_value());
  ASSERT_EQ(report->not_enforced.size(), 1u);
  EXPECT_EQ(report->not_enforced[0].setting, "desktop.wallpaper");
  EXPECT_TRUE(fake.MachineForTesting().empty());
}

}  // namespace
}  // namespace ward::platform
