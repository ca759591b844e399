// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "ward/v1/ipc.pb.h"

namespace ward::agent::ipc {

// Where notices for the learner go (a device or program was blocked, the policy changed, a
// concern reached the safeguarding team). IpcServer implements it by fanning the notice out to
// every subscribed tray; IpcClient hands received notices to the tray's sink.
// The method mirrors ward::core::NoticeSink (agent/core), which agent/ipc must not depend on
// (the tray links agent/ipc): the agent bridges the two in agent/app with a one-line adapter,
// or one class implementing both. Thread-safe; must not block: enforcement never waits on UI.
class NoticeSink {
 public:
  virtual ~NoticeSink() = default;
  virtual void Notify(v1::Notice notice) = 0;
};

}  // namespace ward::agent::ipc
