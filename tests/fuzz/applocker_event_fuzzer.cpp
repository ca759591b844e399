// SPDX-License-Identifier: Apache-2.0
// AppLocker's event XML (platform/applocker_events.cpp): text any program that can write to the
// event log can shape.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "ward/common/check.h"
#include "ward/platform/applocker_events.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto parsed = ward::platform::ParseAppLockerEvent(
      std::string_view(reinterpret_cast<const char*>(data), size));
  if (parsed.has_value()) {
    // What the parser promises: a program decision with a path.
    WARD_CHECK(parsed->event_id >= 8002 && parsed->event_id <= 8004);
    WARD_CHECK(parsed->decision != ward::v1::DECISION_UNSPECIFIED);
    WARD_CHECK(!parsed->file_path.empty());
    const ward::v1::ExecEvent exec = ward::platform::ToExecEvent(*parsed);
    WARD_CHECK(exec.path() == parsed->file_path);
  }
  return 0;
}
