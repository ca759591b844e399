// SPDX-License-Identifier: Apache-2.0
// Arbitrary bytes as a SubmitConcernRequest (what a hostile client can send) through the
// agent's concern checks; the same bytes seed a reference code, which must keep its shape.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>

#include "ward/app/concern.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  ward::v1::SubmitConcernRequest request;
  if (request.ParseFromArray(data, static_cast<int>(size))) {
    auto checked = ward::app::ValidateConcern(request);
    if (!checked.has_value() && checked.error().message().empty()) {
      std::abort();  // every refusal says why
    }
    if (checked.has_value() && request.screenshot_png().size() > ward::app::kMaxScreenshotBytes) {
      std::abort();
    }
  }
  std::uint64_t seed = 0;
  std::memcpy(&seed, data, size < sizeof(seed) ? size : sizeof(seed));
  ward::SeededRandom random(seed);
  const std::string reference = ward::app::MakeConcernReference(random);
  if (reference.size() != 9 || reference[4] != '-' ||
      reference.find_first_of("01OIL") != std::string::npos) {
    std::abort();
  }
  return 0;
}
