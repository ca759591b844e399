// SPDX-License-Identifier: Apache-2.0
// IpcClient's transport on Windows: the agent's named pipe, overlapped I/O with one read always
// in flight (its event is what a GUI waits on).
#include <windows.h>

#include <string>
#include <thread>
#include <vector>

#include "internal/client_transport.h"
#include "internal/pipe_windows.h"
#include "ward/common/error_windows.h"
#include "ward/common/unique_handle_windows.h"

namespace ward::agent::ipc::internal {
namespace {

constexpr std::size_t kReadChunk = 64 * 1024;
// How long Connect() waits for a free pipe instance at most (the agent offers the next one as
// soon as a client takes one; it is busy only for that moment, or when it is not running).
constexpr auto kMaxBusyWait = std::chrono::seconds(2);

class PipeClientTransport final : public ClientTransport {
 public:
  PipeClientTransport(UniqueHandle pipe, UniqueHandle read_event, UniqueHandle write_event)
      : pipe_(std::move(pipe)),
        read_event_(std::move(read_event)),
        write_event_(std::move(write_event)),
        buffer_(kReadChunk) {}
  ~PipeClientTransport() override { Close(); }

  // Starts the read that stays in flight (taking what is there at once into `received`);
  // kUnavailable when the agent has gone.
  Status StartRead(std::string& received);
  Status WriteAll(std::string_view bytes, Deadline deadline, std::string& received) override;
  Status ReadSome(std::chrono::milliseconds wait, std::string& received) override;
  void Close() override;
  bool connected() const override { return pipe_.valid(); }
  std::intptr_t native_handle() const override {
    return pipe_.valid() ? reinterpret_cast<std::intptr_t>(read_event_.get()) : -1;
  }

 private:
  // The read in flight has finished: takes its bytes and starts the next read, repeatedly while
  // data is there at once.
  Status FinishRead(std::string& received);
  Status Lost(std::string_view what, DWORD error);

  UniqueHandle pipe_;
  UniqueHandle read_event_;
  UniqueHandle write_event_;
  OVERLAPPED read_{};
  OVERLAPPED write_{};
  bool read_pending_ = false;
  std::vector<char> buffer_;
};

Status PipeClientTransport::Lost(std::string_view what, DWORD error) {
  Close();
  if (error == ERROR_BROKEN_PIPE || error == ERROR_PIPE_NOT_CONNECTED || error == ERROR_NO_DATA) {
    return UnavailableError("the Ward agent closed the connection");
  }
  return std::unexpected(
      Error(ErrorCode::kUnavailable, WindowsError(what, error).message(), error));
}

Status PipeClientTransport::StartRead(std::string& received) {
  while (pipe_.valid() && !read_pending_) {
    read_ = OVERLAPPED{};
    read_.hEvent = read_event_.get();
    if (!ReadFile(pipe_.get(), buffer_.data(), static_cast<DWORD>(buffer_.size()), nullptr,
                  &read_)) {
      const DWORD error = GetLastError();
      if (error != ERROR_IO_PENDING) {
        return Lost("reading from the Ward agent", error);
      }
    }
    read_pending_ = true;
    if (WaitForSingleObject(read_event_.get(), 0) == WAIT_OBJECT_0) {
      WARD_RETURN_IF_ERROR(FinishRead(received));
    }
  }
  return OkStatus();
}

Status PipeClientTransport::FinishRead(std::string& received) {
  DWORD n = 0;
  const BOOL ok = GetOverlappedResult(pipe_.get(), &read_, &n, FALSE);
  if (!ok && GetLastError() == ERROR_IO_INCOMPLETE) {
    return OkStatus();
  }
  read_pending_ = false;
  if (!ok) {
    return Lost("reading from the Ward agent", GetLastError());
  }
  received.append(buffer_.data(), n);
  return OkStatus();
}

Status PipeClientTransport::ReadSome(std::chrono::milliseconds wait, std::string& received) {
  if (!pipe_.valid()) {
    return UnavailableError("not connected to the Ward agent");
  }
  WARD_RETURN_IF_ERROR(StartRead(received));
  if (!received.empty() || !pipe_.valid()) {
    return OkStatus();
  }
  if (WaitForSingleObject(read_event_.get(), static_cast<DWORD>(wait.count())) != WAIT_OBJECT_0) {
    return OkStatus();
  }
  WARD_RETURN_IF_ERROR(FinishRead(received));
  return StartRead(received);
}

Status PipeClientTransport::WriteAll(std::string_view bytes, Deadline deadline,
                                     std::string& received) {
  WARD_RETURN_IF_ERROR(StartRead(received));
  while (!bytes.empty()) {
    if (!pipe_.valid()) {
      return UnavailableError("not connected to the Ward agent");
    }
    write_ = OVERLAPPED{};
    write_.hEvent = write_event_.get();
    if (!WriteFile(pipe_.get(), bytes.data(), static_cast<DWORD>(bytes.size()), nullptr, &write_) &&
        GetLastError() != ERROR_IO_PENDING) {
      return Lost("sending to the Ward agent", GetLastError());
    }
    // While the agent is busy, keep reading so neither side's buffer stays full.
    const HANDLE events[] = {write_event_.get(), read_event_.get()};
    while (true) {
      const DWORD woke = WaitForMultipleObjects(read_pending_ ? 2 : 1, events, FALSE,
                                                static_cast<DWORD>(RemainingMs(deadline)));
      if (woke == WAIT_OBJECT_0 + 1) {
        WARD_RETURN_IF_ERROR(FinishRead(received));
        WARD_RETURN_IF_ERROR(StartRead(received));
        continue;
      }
      if (woke != WAIT_OBJECT_0) {
        // Half a frame may be on the wire: the stream is unusable.
        CancelIoEx(pipe_.get(), &write_);
        DWORD ignored = 0;
        GetOverlappedResult(pipe_.get(), &write_, &ignored, TRUE);
        Close();
        return DeadlineExceededError("the Ward agent did not take the request in time");
      }
      break;
    }
    DWORD n = 0;
    if (!GetOverlappedResult(pipe_.get(), &write_, &n, FALSE)) {
      return Lost("sending to the Ward agent", GetLastError());
    }
    bytes.remove_prefix(n);
  }
  return OkStatus();
}

void PipeClientTransport::Close() {
  if (!pipe_.valid()) {
    return;
  }
  if (read_pending_) {
    // The buffer must not be freed while the system may still write to it.
    CancelIoEx(pipe_.get(), &read_);
    DWORD ignored = 0;
    GetOverlappedResult(pipe_.get(), &read_, &ignored, TRUE);
    read_pending_ = false;
  }
  pipe_.Reset();
}

}  // namespace

Result<std::unique_ptr<ClientTransport>> ConnectTransport(const std::filesystem::path& endpoint,
                                                          std::chrono::milliseconds timeout) {
  WARD_ASSIGN_OR_RETURN(const std::wstring name, LocalPipeName(endpoint));
  const std::string shown = PathUtf8(endpoint);
  const Deadline deadline =
      std::chrono::steady_clock::now() + std::min<std::chrono::milliseconds>(timeout, kMaxBusyWait);
  UniqueHandle pipe;
  while (true) {
    // Identification level: the server may learn who we are but never act as us (a program
    // squatting the pipe name could otherwise borrow the learner's rights).
    pipe.Reset(CreateFileW(name.c_str(), kClientPipeAccess, 0, nullptr, OPEN_EXISTING,
                           FILE_FLAG_OVERLAPPED | SECURITY_SQOS_PRESENT | SECURITY_IDENTIFICATION,
                           nullptr));
    if (pipe.valid()) {
      break;
    }
    const DWORD error = GetLastError();
    if (error == ERROR_PIPE_BUSY && RemainingMs(deadline) > 0) {
      if (!WaitNamedPipeW(name.c_str(), static_cast<DWORD>(RemainingMs(deadline)))) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
      continue;
    }
    const std::string why = error == ERROR_PIPE_BUSY ? " failed: the agent is busy" : " failed";
    return std::unexpected(Error(ErrorCode::kUnavailable,
                                 "connecting to the Ward agent at " + shown + why + " (" +
                                     WindowsError("opening the pipe", error).message() + ")",
                                 error));
  }
  UniqueHandle read_event(CreateEventW(nullptr, TRUE, FALSE, nullptr));
  UniqueHandle write_event(CreateEventW(nullptr, TRUE, FALSE, nullptr));
  if (!read_event.valid() || !write_event.valid()) {
    return std::unexpected(WindowsError("creating events for the pipe", GetLastError()));
  }
  // The read that stays in flight starts with the first call (ReadSome() or WriteAll()), so
  // whatever the agent says first (that it is busy) reaches that call, as on Linux.
  auto transport = std::make_unique<PipeClientTransport>(std::move(pipe), std::move(read_event),
                                                         std::move(write_event));
  return transport;
}

}  // namespace ward::agent::ipc::internal
