// SPDX-License-Identifier: Apache-2.0
// AppLocker's decisions from its own event channel: EvtSubscribe (future events, signalled by a
// Win32 event), EvtNext, EvtRender as XML, then the portable parser (applocker_events.cpp).
#include <windows.h>
#include <winevt.h>

#include <algorithm>
#include <string>
#include <vector>

#include "ward/common/error_windows.h"
#include "ward/common/unique_handle_windows.h"
#include "ward/platform/applocker_events.h"

namespace ward::platform {
namespace {

constexpr wchar_t kChannel[] = L"Microsoft-Windows-AppLocker/EXE and DLL";
constexpr wchar_t kQuery[] = L"*[System[(EventID=8002 or EventID=8003 or EventID=8004)]]";
constexpr DWORD kBatch = 32;

class UniqueEvt {
 public:
  explicit UniqueEvt(EVT_HANDLE handle = nullptr) : handle_(handle) {}
  UniqueEvt(UniqueEvt&& other) noexcept : handle_(std::exchange(other.handle_, nullptr)) {}
  UniqueEvt& operator=(UniqueEvt&&) = delete;
  ~UniqueEvt() {
    if (handle_ != nullptr) {
      EvtClose(handle_);
    }
  }
  EVT_HANDLE get() const { return handle_; }

 private:
  EVT_HANDLE handle_;
};

// The event as XML text (UTF-8).
Result<std::string> RenderXml(EVT_HANDLE event) {
  DWORD used = 0;
  DWORD properties = 0;
  std::vector<wchar_t> buffer(4096);
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (EvtRender(nullptr, event, EvtRenderEventXml,
                  static_cast<DWORD>(buffer.size() * sizeof(wchar_t)), buffer.data(), &used,
                  &properties)) {
      return Utf8(std::wstring_view(buffer.data(), std::wcslen(buffer.data())));
    }
    if (GetLastError() != ERROR_INSUFFICIENT_BUFFER) {
      break;
    }
    buffer.resize(used / sizeof(wchar_t) + 1);
  }
  return std::unexpected(WindowsError("rendering an AppLocker event", GetLastError()));
}

class WindowsAppLockerEventSource final : public AppLockerEventSource {
 public:
  WindowsAppLockerEventSource(UniqueHandle signal, UniqueHandle interrupt, UniqueEvt subscription)
      : signal_(std::move(signal)),
        interrupt_(std::move(interrupt)),
        subscription_(std::move(subscription)) {}

  Result<Batch> WaitForEvents(std::chrono::milliseconds max_wait) override {
    Batch batch;
    WARD_RETURN_IF_ERROR(Drain(batch));  // what came since the last call
    if (!batch.events.empty() || batch.refused > 0) {
      return batch;
    }
    const HANDLE handles[] = {signal_.get(), interrupt_.get()};
    const auto ms = static_cast<DWORD>(
        std::clamp<std::chrono::milliseconds::rep>(max_wait.count(), 0, INFINITE - 1));
    const DWORD r = WaitForMultipleObjects(2, handles, FALSE, ms);
    if (r == WAIT_OBJECT_0) {
      WARD_RETURN_IF_ERROR(Drain(batch));
    } else if (r != WAIT_OBJECT_0 + 1 && r != WAIT_TIMEOUT) {
      return std::unexpected(WindowsError("waiting for AppLocker events", GetLastError()));
    }
    return batch;
  }

  void Interrupt() override { SetEvent(interrupt_.get()); }

 private:
  // Everything the subscription holds now. The event log sets the (manual-reset) signal when
  // events arrive; it is reset before reading, so an event arriving during the read sets it
  // again and is not missed.
  Status Drain(Batch& batch) {
    ResetEvent(signal_.get());
    while (true) {
      EVT_HANDLE events[kBatch];
      DWORD returned = 0;
      if (!EvtNext(subscription_.get(), kBatch, events, 0, 0, &returned)) {
        const DWORD error = GetLastError();
        if (error == ERROR_NO_MORE_ITEMS) {
          return OkStatus();
        }
        return std::unexpected(WindowsError("reading AppLocker events", error));
      }
      for (DWORD i = 0; i < returned; ++i) {
        const UniqueEvt event(events[i]);
        auto xml = RenderXml(event.get());
        auto parsed = xml.has_value() ? ParseAppLockerEvent(*xml)
                                      : Result<AppLockerEvent>(std::unexpected(xml.error()));
        if (parsed.has_value()) {
          batch.events.push_back(*std::move(parsed));
        } else {
          ++batch.refused;
        }
      }
    }
  }

  UniqueHandle signal_;     // set by the event log when events arrive
  UniqueHandle interrupt_;  // auto-reset: Interrupt()
  UniqueEvt subscription_;
};

}  // namespace

Result<std::unique_ptr<AppLockerEventSource>> CreateAppLockerEventSource() {
  // Initially set: the first WaitForEvents reads what is already there.
  UniqueHandle signal(CreateEventW(nullptr, TRUE, TRUE, nullptr));
  UniqueHandle interrupt(CreateEventW(nullptr, FALSE, FALSE, nullptr));
  if (!signal.valid() || !interrupt.valid()) {
    return std::unexpected(WindowsError("creating events", GetLastError()));
  }
  UniqueEvt subscription(EvtSubscribe(nullptr, signal.get(), kChannel, kQuery, nullptr, nullptr,
                                      nullptr, EvtSubscribeToFutureEvents));
  if (subscription.get() == nullptr) {
    const DWORD error = GetLastError();
    const std::string context = "subscribing to the AppLocker event channel";
    return std::unexpected(
        error == ERROR_SUCCESS
            ? Error(ErrorCode::kUnavailable,
                    context + ": EvtSubscribe gave no subscription and no error code (the event "
                              "log API is not implemented here)")
            : Error(ErrorCode::kUnavailable, WindowsError(context, error).message(), error));
  }
  return std::make_unique<WindowsAppLockerEventSource>(std::move(signal), std::move(interrupt),
                                                       std::move(subscription));
}

}  // namespace ward::platform
