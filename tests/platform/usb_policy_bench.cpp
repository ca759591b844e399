// SPDX-License-Identifier: Apache-2.0
// Time to compile a 10,000-rule USB policy into its Windows registry plan, and (on Windows, or
// under Wine) to write it and to verify it. Not a test; docs/benchmarks.md has the commands.
//   ward_usb_policy_bench [rules] [runs]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "usb_policy_bench.h"

namespace ward::platform {

void TimeIt(const std::string& what, int runs, const std::function<void()>& step) {
  std::vector<double> ms;
  for (int i = 0; i < runs; ++i) {
    const auto start = std::chrono::steady_clock::now();
    step();
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
                     .count());
  }
  std::ranges::sort(ms);
  std::printf("%-44s median %9.2f ms (min %.2f, max %.2f, %d runs)\n", what.c_str(),
              ms[ms.size() / 2], ms.front(), ms.back(), runs);
}

namespace {

// N rules: 5% exact id + serial ALLOW (instance ids), 90% exact-id BLOCK, 4% interface-class
// BLOCK (classes other than HID), 1% interface-class BLOCK with a time window (falls back).
v1::Policy GeneratePolicy(int rules) {
  v1::Policy policy;
  policy.set_mode(v1::MODE_ENFORCE);
  v1::UsbPolicy& usb = *policy.mutable_usb();
  usb.set_default_action(v1::USB_ACTION_ALLOW);
  char text[32];
  for (int i = 0; i < rules; ++i) {
    v1::UsbRule& rule = *usb.add_rules();
    rule.set_id("r" + std::to_string(i));
    const int kind = i % 100;
    std::snprintf(text, sizeof(text), "%04x:%04x", 0x1000 + i / 0x10000, i % 0x10000);
    if (kind < 5) {
      rule.set_action(v1::USB_ACTION_ALLOW);
      rule.mutable_device_id()->add_values(text);
      rule.mutable_serial()->add_values("SN" + std::to_string(i));
    } else if (kind < 95) {
      rule.set_action(v1::USB_ACTION_BLOCK);
      rule.mutable_device_id()->add_values(text);
    } else {
      rule.set_action(v1::USB_ACTION_BLOCK);
      rule.set_scope(v1::USB_RULE_SCOPE_INTERFACE);
      std::snprintf(text, sizeof(text), "%02x:%02x:*", 0x05 + kind % 4, i % 256);
      rule.mutable_with_interface()->add_values(text);
      if (kind == 99) {
        rule.mutable_when()->set_local_time("08:30-16:30");
      }
    }
  }
  return policy;
}

}  // namespace
}  // namespace ward::platform

int main(int argc, char** argv) {
  using namespace ward::platform;
  const int rules = argc > 1 ? std::atoi(argv[1]) : 10000;
  const int runs = argc > 2 ? std::atoi(argv[2]) : 5;
  const ward::v1::Policy policy = GeneratePolicy(rules);
  UsbRegistryPlan plan;
  TimeIt("compile " + std::to_string(rules) + " rules", runs,
         [&] { plan = CompileUsbRegistryPlan(policy); });
  std::printf("plan: %zu registry values, %zu rules fall back\n", plan.values.size(),
              plan.fallbacks.size());
  return BenchBackend(plan, runs);
}
