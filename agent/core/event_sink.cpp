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

v1::Event SettingsEventOf(EventFactory& factory, std::uint64_t policy_version,
                          v1::SettingsEvent::Kind kind, const std::string& setting,
                          const std::string& detail, v1::Priority priority) {
  v1::Event event = factory.New(priority, policy_version);
  auto* s = event.mutable_settings();
  s->set_kind(kind);
  s->set_setting(setting);
  s->set_detail(detail);
  return event;
}

v1::Event TamperEventOf(EventFactory& factory, std::uint64_t policy_version,
                        const std::string& detail, std::uint64_t count) {
  v1::Event tamper = factory.New(v1::PRIORITY_CRITICAL, policy_version);
  tamper.mutable_agent()->set_kind(v1::AgentEvent::KIND_TAMPER);
  tamper.mutable_agent()->set_detail(detail);
  tamper.mutable_agent()->set_count(count);
  return tamper;
}

}  // namespace ward::core
