// SPDX-License-Identifier: Apache-2.0
#include <cstddef>
#include <cstdint>
#include <span>

#include "ward/common/check.h"
#include "ward/platform/uevent.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto parsed =
      ward::platform::ParseKernelUevent(std::span(reinterpret_cast<const char*>(data), size));
  if (parsed.has_value()) {
    // What the parser promises: a clean absolute DEVPATH that agrees with the properties.
    WARD_CHECK(!parsed->devpath.empty() && parsed->devpath.front() == '/');
    WARD_CHECK(parsed->devpath.find("/../") == std::string::npos);
    WARD_CHECK(parsed->properties.at("DEVPATH") == parsed->devpath);
    WARD_CHECK(parsed->properties.at("ACTION") == parsed->action);
  }
  return 0;
}
