// SPDX-License-Identifier: Apache-2.0
#include "ward/core/event_sink.h"

#include <chrono>

namespace ward::core {

v1::Event EventFactory::New(v1::Priority priority, std::uint64_t policy_version) {
  v1::Event event;
  event.set_id(ids_.Next().ToString());
  const auto since_epoch = clock_.Now().time_since_epoch();
  const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(since_epoch);
  event.mutable_device_time()->set_seconds(seconds.count());
  event.mutable_device_time()->set_nanos(static_cast<std::int32_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(since_epoch - seconds).count()));
  event.set_priority(priority);
  event.set_policy_version(policy_version);
  return event;
}

}  // namespace ward::core
