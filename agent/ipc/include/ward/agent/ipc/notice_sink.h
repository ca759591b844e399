// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "ward/v1/ipc.pb.h"

namespace ward::agent::ipc {

// Where notices for the learner go (a device or program was blocked, the policy changed, a
// concern reached the safeguarding team). The agent's enforcers publish; IpcServer fans the
// notice out to every subscribed tray, and IpcClient hands received notices to the tray's sink.
// Implementations must be thread-safe and must not block: enforcement never waits on the UI.
class NoticeSink {
 public:
  virtual ~NoticeSink() = default;
  virtual void Publish(const v1::Notice& notice) = 0;
};

}  // namespace ward::agent::ipc
