// SPDX-License-Identifier: Apache-2.0
// The local calendar time of a moment (policy time windows), per OS: local_time_posix.cpp
// (localtime_r) or local_time_windows.cpp (localtime_s). Thread-safe.
#pragma once

#include <ctime>

namespace ward::core::internal {

std::tm LocalTime(std::time_t when);

}  // namespace ward::core::internal
