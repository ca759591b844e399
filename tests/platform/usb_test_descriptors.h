// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <vector>

namespace ward::testing {

struct TestInterface {
  std::uint8_t number;
  std::uint8_t cls;
  std::uint8_t subclass;
  std::uint8_t protocol;
  std::uint8_t alternate = 0;
};

// The bytes of a sysfs `descriptors` file: device descriptor, then one configuration per entry
// of `configs`, each interface followed by one bulk endpoint (and a HID descriptor for HID).
inline std::vector<std::uint8_t> BuildDescriptors(
    std::uint16_t vendor, std::uint16_t product,
    const std::vector<std::vector<TestInterface>>& configs) {
  const auto lo = [](unsigned v) { return static_cast<std::uint8_t>(v & 0xff); };
  const auto hi = [](unsigned v) { return static_cast<std::uint8_t>((v >> 8) & 0xff); };
  std::vector<std::uint8_t> out = {
      18, 1,  0x00,       0x02,       0,           0,
      0,  64, lo(vendor), hi(vendor), lo(product), hi(product),
      0,  1,  1,          2,          3,           static_cast<std::uint8_t>(configs.size())};
  std::uint8_t value = 1;
  for (const auto& interfaces : configs) {
    std::vector<std::uint8_t> body;
    for (const auto& i : interfaces) {
      body.insert(body.end(), {9, 4, i.number, i.alternate, 1, i.cls, i.subclass, i.protocol, 0});
      if (i.cls == 0x03) {
        body.insert(body.end(), {9, 0x21, 0x11, 0x01, 0, 1, 0x22, 0x3f, 0});
      }
      body.insert(body.end(), {7, 5, 0x81, 0x02, 0x00, 0x02, 0});
    }
    const unsigned total = 9 + static_cast<unsigned>(body.size());
    out.insert(out.end(), {9, 2, lo(total), hi(total), static_cast<std::uint8_t>(interfaces.size()),
                           value++, 0, 0x80, 50});
    out.insert(out.end(), body.begin(), body.end());
  }
  return out;
}

}  // namespace ward::testing
