// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>

#include "ward/common/result.h"
#include "ward/v1/ipc.pb.h"

namespace ward::agent::ipc {

// Who is calling, as the kernel says (SO_PEERCRED), never as the client claims. IpcServer fills
// it in on every request. Through IpcClient the argument is ignored and never sent: the agent
// works it out itself.
struct Caller {
  uid_t uid = 0;
  pid_t pid = 0;
  std::string username;  // from the password database; empty when the uid has no entry
};

// What the tray may ask of the agent. One interface, implemented by the agent's core (the real
// thing), by IpcServer's peer IpcClient (which forwards over the socket) and by tests (USBGuard's
// Interface / IPCServer / IPCClient). Errors carry a canonical code and a message that is safe
// to show the learner. Thread-safety is up to each implementation (see its comment).
class AgentControl {
 public:
  virtual ~AgentControl() = default;

  virtual Result<v1::StatusResponse> Status(const Caller& caller) = 0;
  virtual Result<v1::PolicySummaryResponse> PolicySummary(const Caller& caller) = 0;
  // Returns only once the concern is durable on this laptop (a CRITICAL event); the reference
  // is what the learner can quote.
  virtual Result<v1::SubmitConcernResponse> SubmitConcern(
      const Caller& caller, const v1::SubmitConcernRequest& request) = 0;
  // Records that the caller accepted this version of the acceptable-use agreement.
  virtual ward::Status AcceptAup(const Caller& caller, const v1::AcceptAupRequest& request) = 0;
  // Asks for notices on this connection. The core may refuse (kPermissionDenied); notices then
  // flow through a NoticeSink (the server's fan-out, or the sink given to IpcClient).
  virtual ward::Status Subscribe(const Caller& caller) = 0;
};

}  // namespace ward::agent::ipc
