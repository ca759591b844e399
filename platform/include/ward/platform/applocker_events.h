// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "ward/common/result.h"
#include "ward/v1/event.pb.h"

// AppLocker's own events from the "Microsoft-Windows-AppLocker/EXE and DLL" channel, as the XML
// EvtRender(EvtRenderEventXml) gives (converted to UTF-8): 8002 allowed, 8003 allowed but would
// have been prevented (audit only), 8004 prevented. The text comes from the event log, which
// other programs can write to: this is a parser of untrusted bytes (fuzzed by
// tests/fuzz/applocker_event_fuzzer.cpp). Portable.
namespace ward::platform {

struct AppLockerEvent {
  int event_id = 0;  // 8002, 8003 or 8004
  v1::Decision decision = v1::DECISION_UNSPECIFIED;
  std::string time_created;  // System/TimeCreated@SystemTime, as written ("2026-12-07T21:30:01...")
  std::string file_path;     // FullFilePath when present ("C:\\Users\\..."), else FilePath
                             // ("%OSDRIVE%\\USERS\\...")
  std::string file_hash;     // FileHash: AppLocker's Authenticode SHA-256, hex as written
  std::string publisher;     // Fqbn's publisher part ("O=..., C=GB"); "" when the file is unsigned
  std::string fqbn;          // the whole fully qualified binary name, "" for "-"
  std::string user_sid;      // TargetUser
  std::uint32_t pid = 0;     // TargetProcessId
  std::string rule_guid;     // RuleId without braces, lower case; all zeros: no rule matched
  std::string rule_name;     // RuleName, "" for "-"
  // The Ward rule this comes from: the rule name without "Ward " for Ward's rules,
  // "applocker-default" for AppLocker's default rules, "" when no rule matched (blocked because
  // no rule allows it) or the rule is not Ward's.
  std::string rule_id;
};

// Errors: kInvalidArgument (not well-formed, too large or deep, a field missing or malformed),
// kUnsupported (a well-formed event that is not AppLocker's 8002/8003/8004).
Result<AppLockerEvent> ParseAppLockerEvent(std::string_view xml);

// The Ward event body. sha256 stays empty: AppLocker reports an Authenticode hash, which is not
// the whole-file SHA-256 ExecEvent.sha256 means elsewhere; the reason says which rule decided.
v1::ExecEvent ToExecEvent(const AppLockerEvent& event);

// AppLockerEvents: what AppLocker decided since the last call, read from its event channel as
// events arrive (a subscription to future events; nothing is polled). Confined to one thread,
// except Interrupt(), which is thread-safe.
class AppLockerEventSource {
 public:
  virtual ~AppLockerEventSource() = default;

  // Waits up to `max_wait` for AppLocker events and returns those that came (empty on timeout
  // or Interrupt()). An event the parser refuses is counted in `refused` and left out: the
  // channel is not Ward's, so one odd event must not stop the others.
  struct Batch {
    std::vector<AppLockerEvent> events;
    std::size_t refused = 0;
  };
  virtual Result<Batch> WaitForEvents(std::chrono::milliseconds max_wait) = 0;

  virtual void Interrupt() = 0;
};

// Windows: EvtSubscribe on "Microsoft-Windows-AppLocker/EXE and DLL" for events 8002-8004
// (windows/applocker_events_windows.cpp). kUnavailable when the event log service cannot
// subscribe (Wine 8's wevtapi is a stub).
Result<std::unique_ptr<AppLockerEventSource>> CreateAppLockerEventSource();

}  // namespace ward::platform
