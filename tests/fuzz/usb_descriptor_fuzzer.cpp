// SPDX-License-Identifier: Apache-2.0
#include <cstddef>
#include <cstdint>
#include <span>

#include "ward/common/check.h"
#include "ward/platform/usb_descriptors.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto parsed = ward::platform::ParseUsbDescriptors(std::span(data, size));
  if (parsed.has_value()) {
    std::size_t interfaces = 0;
    for (const auto& config : parsed->configurations) {
      interfaces += config.interfaces.size();
    }
    // Each interface descriptor takes at least 9 bytes of the input.
    WARD_CHECK(interfaces * 9 <= size);
  }
  return 0;
}
