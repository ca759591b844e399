// SPDX-License-Identifier: Apache-2.0
// Helpers around the staff API client (staff_client.h) that the staff command files share
// (defined in staff_commands.cpp).
#pragma once

#include <Poco/Dynamic/Var.h>
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>

#include <cstdint>
#include <string>
#include <vector>

#include "ward/common/result.h"
#include "ward/ctl/cli.h"
#include "ward/ctl/staff_client.h"

namespace ward::ctl::internal {

using Reply = StaffReply;

// StaffCall (staff_client.h).
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

}  // namespace ward::ctl::internal
