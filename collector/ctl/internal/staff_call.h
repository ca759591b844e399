// SPDX-License-Identifier: Apache-2.0
// The staff API client the staff command files share (defined in staff_commands.cpp).
#pragma once

#include <Poco/Dynamic/Var.h>
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>

#include <cstdint>
#include <string>
#include <vector>

#include "ward/common/result.h"
#include "ward/ctl/cli.h"

namespace ward::ctl::internal {

struct Reply {
  int status = 0;
  std::string body;
  std::string next_cursor;  // Ward-Next-Cursor: a paged list has more
};

// One staff API call over HTTPS, trusting only --ca. Errors are kUnavailable (cannot reach or
// trust the collector) or the collector's own message for 4xx/5xx.
Result<Reply> Call(const Args& args, const std::string& method, const std::string& path,
                   const std::string& body = "",
                   const std::string& content_type = "application/json");
Result<Poco::Dynamic::Var> CallJson(const Args& args, const std::string& method,
                                    const std::string& path, const std::string& body = "");
// Every page of a paged list (docs/collector.md: Ward-Next-Cursor), as one array.
Result<Poco::JSON::Array::Ptr> CallJsonPages(const Args& args, const std::string& path);
std::string Stringify(const Poco::Dynamic::Var& v);
// A string field of a collector answer, made safe for a terminal (see terminal_text.h).
std::string Shown(const Poco::JSON::Object::Ptr& object, const std::string& key);
// "2026-12-07 21:30 UTC"; "never" for 0.
std::string Time(std::int64_t ms);
// Options every staff command takes, then `extra`.
std::vector<Option> StaffOptions(std::vector<Option> extra = {});

}  // namespace ward::ctl::internal
