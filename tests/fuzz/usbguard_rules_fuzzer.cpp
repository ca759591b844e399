// SPDX-License-Identifier: Apache-2.0
// Arbitrary bytes as a USBGuard rules file. Whatever the importer accepts must be rules Ward can
// validate, each with a unique id; everything else must be a clean error with a position.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <set>
#include <string_view>

#include "ward/policy/loader.h"
#include "ward/policy/usbguard_import.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto rules = ward::policy::ImportUsbGuardRules(text);
  if (!rules) {
    const std::string& message = rules.error().message();
    const bool positioned = message.starts_with("line ") || message.starts_with("the rules file");
    if (!positioned) {
      std::abort();  // every import error names where it is
    }
    return 0;
  }
  std::set<std::string> ids;
  ward::v1::Policy policy;
  policy.set_version(1);
  for (const auto& rule : *rules) {
    if (rule.id().empty() || !ids.insert(rule.id()).second) {
      std::abort();
    }
    *policy.mutable_usb()->add_rules() = rule;
  }
  (void)ward::policy::ValidatePolicy(policy);
  return 0;
}
