// SPDX-License-Identifier: Apache-2.0
// IpcServer's transport on Windows: a named pipe served by one thread through an I/O completion
// port (any number of connections, no thread per client), the caller named by the kernel.
#include <windows.h>

#include <sddl.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "internal/pipe_windows.h"
#include "internal/server_transport.h"
#include "ward/common/error_windows.h"
#include "ward/common/log.h"
#include "ward/common/sid_windows.h"
#include "ward/common/unique_handle_windows.h"

namespace ward::agent::ipc::internal {
namespace {

constexpr DWORD kPipeBufferBytes = 64 * 1024;
constexpr std::size_t kReadChunk = 64 * 1024;
constexpr ULONG_PTR kWakeKey = 0;

// Who may open the pipe (both ends): SYSTEM and the Administrators everything; interactive users
// (IU: whoever is signed in at the laptop, also over Remote Desktop) read and write data only
// (kClientPipeAccess: not FILE_CREATE_PIPE_INSTANCE, so they cannot add server instances);
// network logons (NU) are denied outright, and remote clients are rejected by
// PIPE_REJECT_REMOTE_CLIENTS as well. "P": the DACL inherits nothing.
constexpr wchar_t kPipeSddl[] = L"D:P(D;;GA;;;NU)(A;;GA;;;SY)(A;;GA;;;BA)(A;;0x12008b;;;IU)";

enum class Op { kConnect, kRead, kWrite };

// One overlapped operation in flight. OVERLAPPED comes first: the completion hands it back.
struct Io {
  OVERLAPPED overlapped{};
  Op op;
  bool pending = false;
  explicit Io(Op o) : op(o) {}
  void Reset() {
    overlapped = OVERLAPPED{};
    pending = true;
  }
};

struct Connection : Session {
  explicit Connection(std::size_t max_frame) : Session(max_frame), buffer(kReadChunk) {}
  bool Busy() const { return connect.pending || read.pending || write.pending; }

  UniqueHandle pipe;
  Io connect{Op::kConnect};
  Io read{Op::kRead};
  Io write{Op::kWrite};
  std::vector<char> buffer;  // what `read` fills
  std::size_t writing = 0;   // bytes of `out` that `write` carries
  bool connected = false;    // a client is on this instance (until then it is the listener)
  bool dropped = false;      // closed; kept only until its I/O has completed
};

Error LastError(std::string_view context) { return WindowsError(context, GetLastError()); }

// The user's SID as a string ("S-1-5-21-...") and, for people, "DOMAIN\name".
Result<Caller> CallerFromToken(HANDLE token, DWORD pid) {
  DWORD size = 0;
  GetTokenInformation(token, TokenUser, nullptr, 0, &size);
  std::vector<unsigned char> buffer(size == 0 ? 1 : size);
  if (!GetTokenInformation(token, TokenUser, buffer.data(), size, &size)) {
    return std::unexpected(LastError("reading the caller's user"));
  }
  PSID sid = reinterpret_cast<TOKEN_USER*>(buffer.data())->User.Sid;
  Caller caller{.user_id = SidString(sid), .user_name = {}, .process_id = pid};
  if (caller.user_id.empty()) {
    return std::unexpected(LastError("writing the caller's SID"));
  }
  caller.user_name = AccountName(sid).value_or(caller.user_id);
  return caller;
}

// Who is on the other end of `pipe`, as the kernel says. The named-pipe file system records the
// client's process id when it connects (GetNamedPipeClientProcessId); the user is that process's
// token user. Chosen over ImpersonateNamedPipeClient + OpenThreadToken because (1) the identity
// is needed when the client connects, for the per-user connection limit, before it has sent
// anything, and impersonation takes the context of the last message read; (2) the loop thread
// runs as SYSTEM and would impersonate untrusted callers: a RevertToSelf missed on one path
// would leave it running as a learner; (3) the tray can then open the pipe at identification
// level, so a server squatting the name could never act as the learner.
// A process id can be reused once its process has gone, so the process found must have been
// created before the connection was seen (`seen`), and the client must still be connected while
// we hold its process handle (so that id cannot be reused until we are done).
Result<Caller> PipeClient(HANDLE pipe, const FILETIME& seen) {
  ULONG pid = 0;
  if (!GetNamedPipeClientProcessId(pipe, &pid)) {
    return std::unexpected(LastError("reading the pipe client's process id"));
  }
  UniqueHandle process(OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, FALSE, pid));
  if (!process.valid()) {
    return std::unexpected(LastError("opening the pipe client's process"));
  }
  FILETIME created{};
  FILETIME exited{};
  FILETIME kernel{};
  FILETIME user{};
  if (!GetProcessTimes(process.get(), &created, &exited, &kernel, &user)) {
    return std::unexpected(LastError("reading the pipe client's start time"));
  }
  if (CompareFileTime(&created, &seen) > 0) {
    return PermissionDeniedError("the pipe client's process id belongs to a newer process");
  }
  HANDLE raw = nullptr;
  if (!OpenProcessToken(process.get(), TOKEN_QUERY, &raw)) {
    return std::unexpected(LastError("opening the pipe client's token"));
  }
  UniqueHandle token(raw);
  WARD_ASSIGN_OR_RETURN(Caller caller, CallerFromToken(token.get(), pid));
  DWORD available = 0;
  if (!PeekNamedPipe(pipe, nullptr, 0, nullptr, &available, nullptr)) {
    return std::unexpected(LastError("checking the pipe client is still there"));
  }
  return caller;
}

class PipeTransport final : public ServerTransport {
 public:
  explicit PipeTransport(ServerEngine& engine) : engine_(engine) {}
  ~PipeTransport() override { Stop(); }

  Status Start() override;
  void Stop() override;
  void Wake() override {
    if (port_.valid()) {
      PostQueuedCompletionStatus(port_.get(), 0, kWakeKey, nullptr);
    }
  }
  bool WriteNow(Session& s) override { return StartWrite(static_cast<Connection&>(s)); }
  std::size_t connection_count() const override { return connection_count_.load(); }

 private:
  // Creates the next listening instance and waits for a client on it.
  Status Listen(bool first);
  void Loop();
  void OnCompletion(ULONG_PTR key, OVERLAPPED* overlapped, DWORD bytes, DWORD error);
  void OnConnected(Connection& c, DWORD error);
  void OnRead(Connection& c, DWORD bytes, DWORD error);
  void OnWritten(Connection& c, DWORD bytes, DWORD error);
  bool StartRead(Connection& c);
  bool StartWrite(Connection& c);
  void Drop(Connection& c);
  // Removes what is dropped and idle; closes what must close.
  void Sweep(SteadyTime now);
  DWORD WaitMsNow(SteadyTime now) const;
  // Connections with a client, all of them or (`user_id` not null) that user's.
  std::size_t CountOpen(const std::string* user_id) const;

  ServerEngine& engine_;
  std::wstring name_;
  UniqueHandle port_;
  PSECURITY_DESCRIPTOR descriptor_ = nullptr;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<std::size_t> connection_count_{0};

  // Loop thread only (and Start/Stop while it does not run).
  std::map<ULONG_PTR, std::unique_ptr<Connection>> connections_;  // by completion key
  ULONG_PTR next_key_ = 1;
  bool listening_ = false;
  bool listen_failed_ = false;
};

Status PipeTransport::Start() {
  if (thread_.joinable()) {
    return FailedPreconditionError("the IPC server is already running");
  }
  WARD_ASSIGN_OR_RETURN(name_, LocalPipeName(engine_.options().endpoint));
  if (descriptor_ == nullptr && !ConvertStringSecurityDescriptorToSecurityDescriptorW(
                                    kPipeSddl, SDDL_REVISION_1, &descriptor_, nullptr)) {
    return std::unexpected(LastError("building the pipe's security descriptor"));
  }
  port_.Reset(CreateIoCompletionPort(INVALID_HANDLE_VALUE, nullptr, 0, 1));
  if (!port_.valid()) {
    return std::unexpected(LastError("creating the IPC completion port"));
  }
  if (auto listening = Listen(true); !listening) {
    connections_.clear();
    port_.Reset();
    return listening;
  }
  stop_ = false;
  thread_ = std::thread([this] { Loop(); });
  log::Info("ipc server listening", {{"pipe", PathUtf8(engine_.options().endpoint)}});
  return OkStatus();
}

Status PipeTransport::Listen(bool first) {
  SECURITY_ATTRIBUTES attributes{sizeof(SECURITY_ATTRIBUTES), descriptor_, FALSE};
  // FILE_FLAG_FIRST_PIPE_INSTANCE: if any process (a learner's, squatting the name before the
  // agent starts) holds an instance of this pipe, the agent refuses to serve rather than share it.
  const DWORD open_mode = PIPE_ACCESS_DUPLEX | FILE_FLAG_OVERLAPPED |
                          (first ? static_cast<DWORD>(FILE_FLAG_FIRST_PIPE_INSTANCE) : 0u);
  UniqueHandle pipe(CreateNamedPipeW(
      name_.c_str(), open_mode,
      PIPE_TYPE_BYTE | PIPE_READMODE_BYTE | PIPE_WAIT | PIPE_REJECT_REMOTE_CLIENTS,
      PIPE_UNLIMITED_INSTANCES, kPipeBufferBytes, kPipeBufferBytes, 0, &attributes));
  if (!pipe.valid()) {
    const DWORD error = GetLastError();
    if (first && error == ERROR_ACCESS_DENIED) {
      return std::unexpected(Error(
          ErrorCode::kPermissionDenied,
          "another program already serves " + Utf8(name_) + " (or may not be replaced by this one)",
          error));
    }
    return std::unexpected(WindowsError("creating the pipe " + Utf8(name_), error));
  }
  if (first) {
    // Belt and braces for FILE_FLAG_FIRST_PIPE_INSTANCE (which Wine 8 does not enforce): ours
    // must be the pipe's only instance.
    DWORD instances = 0;
    if (!GetNamedPipeHandleStateW(pipe.get(), nullptr, &instances, nullptr, nullptr, nullptr, 0)) {
      return std::unexpected(LastError("counting the instances of " + Utf8(name_)));
    }
    if (instances != 1) {
      return std::unexpected(Error(ErrorCode::kPermissionDenied,
                                   "another program already serves " + Utf8(name_) + " (" +
                                       std::to_string(instances - 1) + " other instances)"));
    }
  }
  const ULONG_PTR key = next_key_++;
  if (CreateIoCompletionPort(pipe.get(), port_.get(), key, 0) == nullptr) {
    return std::unexpected(LastError("attaching the pipe to the completion port"));
  }
  auto c = std::make_unique<Connection>(engine_.options().max_frame_bytes);
  c->pipe = std::move(pipe);
  Connection& connection = *c;
  connections_.emplace(key, std::move(c));
  connection.connect.Reset();
  if (ConnectNamedPipe(connection.pipe.get(), &connection.connect.overlapped)) {
    listening_ = true;  // completes through the port as well
    return OkStatus();
  }
  const DWORD error = GetLastError();
  if (error == ERROR_IO_PENDING) {
    listening_ = true;
    return OkStatus();
  }
  connection.connect.pending = false;
  if (error == ERROR_PIPE_CONNECTED) {
    // A client came between CreateNamedPipe and ConnectNamedPipe: no completion will come.
    listening_ = true;
    OnConnected(connection, 0);
    return OkStatus();
  }
  Drop(connection);
  return std::unexpected(WindowsError("waiting for clients on " + Utf8(name_), error));
}

void PipeTransport::Stop() {
  if (thread_.joinable()) {
    stop_ = true;
    Wake();
    thread_.join();
  }
  // Cancel everything, then wait for every cancelled operation to come back through the port
  // before its OVERLAPPED and buffer are freed.
  for (auto& [key, c] : connections_) {
    Drop(*c);
  }
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (port_.valid() &&
         std::any_of(connections_.begin(), connections_.end(),
                     [](const auto& e) { return e.second->Busy(); }) &&
         std::chrono::steady_clock::now() < give_up) {
    DWORD bytes = 0;
    ULONG_PTR key = 0;
    OVERLAPPED* overlapped = nullptr;
    const BOOL ok = GetQueuedCompletionStatus(port_.get(), &bytes, &key, &overlapped, 100);
    if (overlapped != nullptr) {
      OnCompletion(key, overlapped, bytes, ok ? 0 : GetLastError());
    }
  }
  std::erase_if(connections_, [](const auto& e) { return !e.second->Busy(); });
  if (!connections_.empty()) {
    // Never free memory the kernel may still write to.
    log::Error("ipc pipes did not finish closing", {{"count", connections_.size()}});
    for (auto& [key, c] : connections_) {
      (void)c.release();
    }
    connections_.clear();
  }
  listening_ = false;
  connection_count_ = 0;
  port_.Reset();
  if (descriptor_ != nullptr) {
    LocalFree(descriptor_);
    descriptor_ = nullptr;
  }
}

void PipeTransport::Loop() {
  while (!stop_) {
    DWORD bytes = 0;
    ULONG_PTR key = 0;
    OVERLAPPED* overlapped = nullptr;
    const BOOL ok = GetQueuedCompletionStatus(port_.get(), &bytes, &key, &overlapped,
                                              WaitMsNow(std::chrono::steady_clock::now()));
    const DWORD error = ok ? 0 : GetLastError();
    if (overlapped != nullptr) {
      OnCompletion(key, overlapped, bytes, error);
    } else if (!ok && error != WAIT_TIMEOUT) {
      log::Error("ipc completion port failed",
                 {{"error", WindowsError("waiting", error).ToString()}});
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    if (stop_) {
      break;
    }
    const SteadyTime now = std::chrono::steady_clock::now();
    if (!listening_) {
      // The last instance was taken (or creating one failed): offer the next one. A failure is
      // retried every second and logged once until it works again.
      auto listened = Listen(false);
      if (!listened && !listen_failed_) {
        log::Warning("ipc pipe not offered again yet", {{"error", listened.error().ToString()}});
      }
      listen_failed_ = !listened.has_value();
    }
    for (const auto& pending : engine_.TakeNotices()) {
      for (auto& [k, c] : connections_) {
        if (c->connected && !c->dropped) {
          engine_.Deliver(*c, pending, now);
        }
      }
    }
    Sweep(now);
  }
}

void PipeTransport::OnCompletion(ULONG_PTR key, OVERLAPPED* overlapped, DWORD bytes, DWORD error) {
  auto it = connections_.find(key);
  if (it == connections_.end()) {
    return;
  }
  Connection& c = *it->second;
  Io* io = reinterpret_cast<Io*>(overlapped);
  io->pending = false;
  if (c.dropped) {
    return;  // a cancelled operation coming back; Sweep() frees the connection once idle
  }
  switch (io->op) {
    case Op::kConnect:
      OnConnected(c, error);
      break;
    case Op::kRead:
      OnRead(c, bytes, error);
      break;
    case Op::kWrite:
      OnWritten(c, bytes, error);
      break;
  }
}

void PipeTransport::OnConnected(Connection& c, DWORD error) {
  listening_ = false;
  if (error != 0) {
    // The client left before it was served (ERROR_NO_DATA) or the wait failed.
    Drop(c);
    return;
  }
  FILETIME seen{};
  GetSystemTimeAsFileTime(&seen);
  const SteadyTime now = std::chrono::steady_clock::now();
  auto caller = PipeClient(c.pipe.get(), seen);
  if (!caller) {
    log::Warning("ipc connection dropped", {{"error", caller.error().ToString()}});
    Drop(c);
    return;
  }
  c.connected = true;
  c.caller = *std::move(caller);
  // Both counts include this connection.
  if (engine_.Admit(c, CountOpen(nullptr) - 1, CountOpen(&c.caller.user_id) - 1, now)) {
    StartRead(c);
  }
}

bool PipeTransport::StartRead(Connection& c) {
  if (c.read.pending || c.closing || c.dropped) {
    return true;
  }
  c.read.Reset();
  if (ReadFile(c.pipe.get(), c.buffer.data(), static_cast<DWORD>(c.buffer.size()), nullptr,
               &c.read.overlapped) ||
      GetLastError() == ERROR_IO_PENDING) {
    return true;  // done or not, the result comes through the port
  }
  c.read.pending = false;
  c.closing = true;  // the client has gone
  return false;
}

void PipeTransport::OnRead(Connection& c, DWORD bytes, DWORD error) {
  if (error != 0 || bytes == 0) {
    // The client hung up (ERROR_BROKEN_PIPE). A pipe has no half-close: nothing more can be sent.
    Drop(c);
    return;
  }
  engine_.OnBytes(c, std::string_view(c.buffer.data(), bytes), std::chrono::steady_clock::now());
  StartRead(c);
}

bool PipeTransport::StartWrite(Connection& c) {
  if (c.write.pending || c.dropped || !c.HasOutput()) {
    return !c.dropped;
  }
  c.writing = std::min<std::size_t>(c.out.size() - c.out_offset, 1u << 20);
  c.write.Reset();
  if (WriteFile(c.pipe.get(), c.out.data() + c.out_offset, static_cast<DWORD>(c.writing), nullptr,
                &c.write.overlapped) ||
      GetLastError() == ERROR_IO_PENDING) {
    return true;  // the result comes through the port; `out` stays put until then
  }
  c.write.pending = false;
  return false;
}

void PipeTransport::OnWritten(Connection& c, DWORD bytes, DWORD error) {
  if (error != 0) {
    Drop(c);
    return;
  }
  // The engine may have dropped the queued output meanwhile (too much of it): only what is
  // still there counts.
  c.Consumed(std::min<std::size_t>(bytes, c.out.size() - c.out_offset));
  c.writing = 0;
  if (!StartWrite(c)) {
    Drop(c);
  }
}

void PipeTransport::Drop(Connection& c) {
  if (c.dropped) {
    return;
  }
  c.dropped = true;
  if (c.connect.pending) {
    listening_ = false;
  }
  if (c.pipe.valid()) {
    CancelIoEx(c.pipe.get(), nullptr);
    // Closing the server end without DisconnectNamedPipe: what the client has not read yet
    // stays readable for it (a last error message), then it sees the pipe end.
    c.pipe.Reset();
  }
}

void PipeTransport::Sweep(SteadyTime now) {
  for (auto& [key, c] : connections_) {
    if (c->connected && !c->dropped &&
        ((c->closing && !c->HasOutput() && !c->write.pending) || engine_.Expired(*c, now))) {
      Drop(*c);
    } else if (c->connected && !c->dropped && c->HasOutput() && !c->write.pending) {
      // Output queued by the engine outside a write completion (a timer's error message).
      if (!StartWrite(*c)) {
        Drop(*c);
      }
    }
  }
  std::erase_if(connections_, [](const auto& e) { return e.second->dropped && !e.second->Busy(); });
  connection_count_ = CountOpen(nullptr);
}

std::size_t PipeTransport::CountOpen(const std::string* user_id) const {
  return static_cast<std::size_t>(
      std::count_if(connections_.begin(), connections_.end(), [user_id](const auto& e) {
        return e.second->connected && !e.second->dropped &&
               (user_id == nullptr || e.second->caller.user_id == *user_id);
      }));
}

DWORD PipeTransport::WaitMsNow(SteadyTime now) const {
  std::optional<SteadyTime> next;
  for (const auto& [key, c] : connections_) {
    if (!c->connected || c->dropped) {
      continue;
    }
    if (const auto deadline = engine_.NextDeadline(*c); deadline.has_value()) {
      next = next.has_value() ? std::min(*next, *deadline) : *deadline;
    }
  }
  if (!listening_) {
    // Offer the pipe again within a second if creating an instance failed.
    const SteadyTime retry = now + std::chrono::seconds(1);
    next = next.has_value() ? std::min(*next, retry) : retry;
  }
  const int ms = WaitMs(next, now);
  return ms < 0 ? INFINITE : static_cast<DWORD>(ms);
}

}  // namespace

std::unique_ptr<ServerTransport> CreateServerTransport(ServerEngine& engine) {
  return std::make_unique<PipeTransport>(engine);
}

}  // namespace ward::agent::ipc::internal
