// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <string>

#include "ward/common/clock.h"
#include "ward/common/random.h"
#include "ward/common/uuid.h"
#include "ward/v1/event.pb.h"
#include "ward/v1/ipc.pb.h"

namespace ward::core {

// Where enforcers put the events they record (the encrypted store implements it). Record() must
// not block for long and must never call back into an enforcer. Implementations are
// thread-safe: every enforcer thread records.
class EventSink {
 public:
  virtual ~EventSink() = default;
  virtual void Record(v1::Event event) = 0;
};

// Where enforcers send what the learner should hear about now (the tray IPC server implements
// it). Best effort: a missing tray loses nothing that matters, the event is in the store.
// Thread-safe; must not block.
class NoticeSink {
 public:
  virtual ~NoticeSink() = default;
  virtual void Notify(v1::Notice notice) = 0;
};

// Stamps new events: UUIDv7 id, device time, priority, policy version. Thread-safe.
class EventFactory {
 public:
  EventFactory(const Clock& clock, Random& random) : clock_(clock), ids_(clock, random) {}
  v1::Event New(v1::Priority priority, std::uint64_t policy_version);

 private:
  const Clock& clock_;
  UuidV7Generator ids_;
};

// The settings enforcers' records: a SettingsEvent, and the CRITICAL AgentEvent KIND_TAMPER for
// places changed outside Ward (`count` of them).
v1::Event SettingsEventOf(EventFactory& factory, std::uint64_t policy_version,
                          v1::SettingsEvent::Kind kind, const std::string& setting,
                          const std::string& detail, v1::Priority priority);
v1::Event TamperEventOf(EventFactory& factory, std::uint64_t policy_version,
                        const std::string& detail, std::uint64_t count);

}  // namespace ward::core
