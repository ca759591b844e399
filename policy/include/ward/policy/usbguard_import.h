// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstddef>
#include <string_view>
#include <vector>

#include "ward/common/result.h"
#include "ward/v1/policy.pb.h"

namespace ward::policy {

// Bounds on what the importer accepts, so hostile input cannot exhaust memory or time. The
// grammar itself has no recursion (sets do not nest), so these bound the work linearly.
struct UsbGuardImportLimits {
  std::size_t max_input_bytes = std::size_t{4} << 20;  // 4 MiB of rules text
  std::size_t max_line_bytes = std::size_t{64} << 10;  // one rule per line
  std::size_t max_rules = 10000;
  std::size_t max_set_values = 1024;    // values inside one { ... }
  std::size_t max_string_bytes = 4096;  // one quoted string, after unescaping
};

// Imports rules written in USBGuard's rule language (usbguard-rules.conf(5)), one rule per line,
// as Ward USB rules in the same order.
//
// Supported: targets allow/block/reject; the device id right after the target or as `id`;
// attributes id, serial, name, hash, parent-hash, via-port, with-interface, with-connect-type,
// label; single values and `[operator] { ... }` sets with all-of, one-of, none-of, equals,
// equals-ordered, match-all; quoted strings with USBGuard's escapes (\" \\ \xHH); `#` comments;
// the condition `if localtime(HH:MM-HH:MM)` (mapped to UsbRule.when). A missing set operator is
// written out as SET_OPERATOR_EQUALS, which is what USBGuard means by it (also for one value).
// Hex in device ids and interface types is lower-cased. `with-connect-type ""` (what
// generate-policy writes for root hubs, whose port reports no connect type) is dropped: Ward
// accepts only named connect types. Each rule gets the id
// `usbguard-line-N`, or one made from its label (lower-case letters, digits and '-').
//
// Errors: kInvalidArgument for malformed input and kUnsupported for valid USBGuard that Ward
// cannot express (other conditions, negation, condition sets, `match`/`device` targets); the
// message always starts "line L, column C: " (columns count characters from 1). The first
// error stops the import; nothing is returned partially.
[[nodiscard]] Result<std::vector<v1::UsbRule>> ImportUsbGuardRules(
    std::string_view text, const UsbGuardImportLimits& limits = {});

}  // namespace ward::policy
