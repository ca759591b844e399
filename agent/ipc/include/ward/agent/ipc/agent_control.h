// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <string>

#include "ward/common/result.h"
#include "ward/v1/ipc.pb.h"

namespace ward::agent::ipc {

// Who is calling, as the kernel says, never as the client claims: on Linux from SO_PEERCRED, on
// Windows from the named pipe's client process and its token. IpcServer fills it in for every
// request. Through IpcClient the argument is ignored and never sent: the agent works it out itself.
struct Caller {
  // Stable per user on this machine, usable in keys: Linux the uid in decimal ("1000", so keys
  // such as "aup/1000/3" written by earlier versions still match); Windows the user's SID
  // ("S-1-5-21-...-1001"). Never contains a space.
  std::string user_id;
  // For people: Linux the name in the password database (empty when the uid has none); Windows
  // "DOMAIN\name" (the SID string when the account has no name).
  std::string user_name;
  std::int64_t process_id = 0;
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
