// SPDX-License-Identifier: Apache-2.0
#include "internal/local_time.h"

namespace ward::core::internal {

std::tm LocalTime(std::time_t when) {
  std::tm local{};
  localtime_s(&local, &when);
  return local;
}

}  // namespace ward::core::internal
