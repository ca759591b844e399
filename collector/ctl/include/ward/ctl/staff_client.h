// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <string>
#include <vector>

#include "ward/common/result.h"
#include "ward/ctl/cli.h"

namespace ward::ctl {

// A staff API answer.
struct StaffReply {
  int status = 0;
  std::string body;
  std::string next_cursor;  // Ward-Next-Cursor: a paged list has more
};

// One staff API call over HTTPS to --collector, trusting only --ca, with --token (or
// WARD_STAFF_TOKEN). Errors are kUnavailable (cannot reach or trust the collector) or the
// collector's own message for 4xx/5xx.
Result<StaffReply> StaffCall(const Args& args, const std::string& method, const std::string& path,
                             const std::string& body = "",
                             const std::string& content_type = "application/json");

// The options every staff command takes (--collector, --ca, --token, --json), then `extra`.
std::vector<Option> StaffOptions(std::vector<Option> extra = {});

}  // namespace ward::ctl
