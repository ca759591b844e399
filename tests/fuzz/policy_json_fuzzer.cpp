// SPDX-License-Identifier: Apache-2.0
// Fuzzes LoadPolicyJson, and for policies it accepts, the evaluators and summaries built on them.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <google/protobuf/util/json_util.h>

#include "ward/policy/app_evaluator.h"
#include "ward/policy/data_inventory.h"
#include "ward/policy/loader.h"
#include "ward/policy/summary.h"
#include "ward/policy/usb_evaluator.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view json(reinterpret_cast<const char*>(data), size);
  auto policy = ward::policy::LoadPolicyJson(json);
  if (!policy) {
    if (policy.error().message().empty()) {
      __builtin_trap();  // every rejection must say why
    }
    return 0;
  }
  // An accepted policy prints back to JSON that is accepted again and means the same.
  std::string printed;
  if (!google::protobuf::util::MessageToJsonString(*policy, &printed).ok()) {
    __builtin_trap();
  }
  auto again = ward::policy::LoadPolicyJson(printed);
  if (!again || again->SerializeAsString() != policy->SerializeAsString()) {
    __builtin_trap();
  }

  auto usb = ward::policy::UsbEvaluator::Create(*policy);
  auto apps = ward::policy::AppEvaluator::Create(*policy);
  if (!usb || !apps) {
    __builtin_trap();  // a valid policy always compiles
  }
  ward::policy::UsbDeviceInfo device;
  device.vendor_id = 0x0781;
  device.product_id = 0x5583;
  device.serial = "4C530001130922116425";
  device.interfaces = {{0x08, 0x06, 0x50, 0}, {0x03, 0x01, 0x01, 1}};
  const auto decision = (*usb)->Evaluate(device, {12, 0});
  if (decision.interfaces.size() != device.interfaces.size()) {
    __builtin_trap();
  }
  ward::policy::ExecRequest exec;
  exec.path = "/home/learner/Downloads/tool";
  exec.sha256 = []() -> ward::Result<std::string> { return std::string(64, 'a'); };
  (void)(*apps)->Evaluate(exec);
  (void)ward::policy::SummarizeForLearner(*policy);
  (void)ward::policy::DescribeKeptData(*policy);
  return 0;
}
