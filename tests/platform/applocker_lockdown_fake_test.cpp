// SPDX-License-Identifier: Apache-2.0
// The application-control contract against the test-only fake (every OS).
#include <set>

#include "app_lockdown_contract.h"
#include "ward/platform/applocker_policy.h"
#include "ward/testing/fake_app_lockdown.h"

namespace ward::platform {
namespace {

struct FakeBackend {
  static std::unique_ptr<AppLockdown> Create() {
    // A site's own value next to Ward's: it must survive Restore.
    return std::make_unique<testing::FakeAppLockdown>(std::map<std::string, std::string>{
        {std::string(kAppIdSvcKey) + "\\Start", "\"Start\"=dword:00000003"}});
  }
  static testing::FakeAppLockdown& Fake(AppLockdown& control) {
    return static_cast<testing::FakeAppLockdown&>(control);
  }
  static void WeakenModeBehindWardsBack(AppLockdown& control) {
    Fake(control).ChangeForTesting(std::string(kSrpV2Key) + "\\Exe\\EnforcementMode",
                                   "\"EnforcementMode\"=dword:00000000");
  }
  static void AddRuleBehindWardsBack(AppLockdown& control) {
    Fake(control).ChangeForTesting(
        std::string(kSrpV2Key) + "\\Exe\\11111111-2222-3333-4444-555555555555\\Value",
        "\"Value\"=\"<FilePathRule Action=\\\"Allow\\\" />\"");
  }
  static std::string Snapshot(AppLockdown& control) {
    std::string out;
    for (const auto& [place, value] : Fake(control).MachineForTesting()) {
      out += place + " = " + value + "\n";
    }
    return out;
  }
  static void CleanUp() {}
};

using Backends = ::testing::Types<FakeBackend>;
INSTANTIATE_TYPED_TEST_SUITE_P(Fake, AppLockdownContractTest, Backends);

}  // namespace
}  // namespace ward::platform
