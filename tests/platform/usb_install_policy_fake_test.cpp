// SPDX-License-Identifier: Apache-2.0
// The USB install-policy contract against the test-only fake (every OS).
#include <sstream>

#include "usb_install_policy_contract.h"
#include "ward/testing/fake_usb_install_policy.h"

namespace ward::platform {
namespace {

using ward::testing::FakeUsbInstallPolicy;

struct FakeUsbBackend {
  static std::unique_ptr<UsbInstallPolicy> Create() {
    return std::make_unique<FakeUsbInstallPolicy>();
  }
  static void Write(UsbInstallPolicy& control, const RegistryPolicyValue& value) {
    static_cast<FakeUsbInstallPolicy&>(control).SetForTesting(value.key, value.name,
                                                              ward::testing::UsbValueLine(value));
  }
  static std::string Snapshot(UsbInstallPolicy& control) {
    std::ostringstream out;
    for (const auto& [place, line] :
         static_cast<FakeUsbInstallPolicy&>(control).MachineForTesting()) {
      out << place.first << ": " << line << "\n";
    }
    return out.str();
  }
  static void CleanUp() {}
};

INSTANTIATE_TYPED_TEST_SUITE_P(Fake, UsbInstallPolicyContractTest, FakeUsbBackend);

}  // namespace
}  // namespace ward::platform
