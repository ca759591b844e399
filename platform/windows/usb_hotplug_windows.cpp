// SPDX-License-Identifier: Apache-2.0
// USB arrivals and removals: CM_Register_Notification for the USB device interface class
// (Windows 8 and later), loaded with GetProcAddress because Wine 8's cfgmgr32 lacks it; where it
// is missing, a message-only window on its own thread registered with RegisterDeviceNotificationW
// (WM_DEVICECHANGE). Either way a manual-reset event is set and WaitForChange() waits on it.
#include <windows.h>

#include <cfgmgr32.h>
#include <dbt.h>

#include <algorithm>
#include <atomic>
#include <thread>

#include "ward/common/error_windows.h"
#include "ward/platform/usb_hotplug.h"

namespace ward::platform {
namespace {

// GUID_DEVINTERFACE_USB_DEVICE (usbiodef.h): every USB device, hubs included.
constexpr GUID kUsbDeviceInterface = {
    0xa5dcbf10, 0x6530, 0x11d2, {0x90, 0x1f, 0x00, 0xc0, 0x4f, 0xb9, 0x51, 0xed}};

using RegisterFn = CONFIGRET(WINAPI*)(PCM_NOTIFY_FILTER, PVOID, PCM_NOTIFY_CALLBACK,
                                      PHCMNOTIFICATION);
using UnregisterFn = CONFIGRET(WINAPI*)(HCMNOTIFICATION);

DWORD CALLBACK OnCmNotification(HCMNOTIFICATION /*notify*/, PVOID context, CM_NOTIFY_ACTION action,
                                PCM_NOTIFY_EVENT_DATA /*data*/, DWORD /*size*/) {
  if (action == CM_NOTIFY_ACTION_DEVICEINTERFACEARRIVAL ||
      action == CM_NOTIFY_ACTION_DEVICEINTERFACEREMOVAL) {
    SetEvent(static_cast<HANDLE>(context));
  }
  return ERROR_SUCCESS;
}

LRESULT CALLBACK WindowProc(HWND window, UINT message, WPARAM wparam, LPARAM lparam) {
  if (message == WM_DEVICECHANGE &&
      (wparam == DBT_DEVICEARRIVAL || wparam == DBT_DEVICEREMOVECOMPLETE)) {
    SetEvent(reinterpret_cast<HANDLE>(GetWindowLongPtrW(window, GWLP_USERDATA)));
    return TRUE;
  }
  if (message == WM_CLOSE) {
    DestroyWindow(window);
    return 0;
  }
  if (message == WM_DESTROY) {
    PostQuitMessage(0);
    return 0;
  }
  return DefWindowProcW(window, message, wparam, lparam);
}

class WindowsUsbHotplug final : public UsbHotplug {
 public:
  WindowsUsbHotplug(HANDLE changed, HANDLE interrupt) : changed_(changed), interrupt_(interrupt) {}
  ~WindowsUsbHotplug() override {
    if (notification_ != nullptr) {
      unregister_(notification_);
    }
    if (thread_.joinable()) {
      if (HWND window = window_.load(); window != nullptr) {
        PostMessageW(window, WM_CLOSE, 0, 0);
      }
      thread_.join();
    }
    CloseHandle(changed_);
    CloseHandle(interrupt_);
  }
  WindowsUsbHotplug(const WindowsUsbHotplug&) = delete;
  WindowsUsbHotplug& operator=(const WindowsUsbHotplug&) = delete;

  Status Start(bool force_window) {
    if (!force_window) {
      if (HMODULE cfgmgr = LoadLibraryW(L"cfgmgr32.dll"); cfgmgr != nullptr) {
        const auto reg = reinterpret_cast<RegisterFn>(
            reinterpret_cast<void*>(GetProcAddress(cfgmgr, "CM_Register_Notification")));
        unregister_ = reinterpret_cast<UnregisterFn>(
            reinterpret_cast<void*>(GetProcAddress(cfgmgr, "CM_Unregister_Notification")));
        if (reg != nullptr && unregister_ != nullptr) {
          CM_NOTIFY_FILTER filter{};
          filter.cbSize = sizeof(filter);
          filter.FilterType = CM_NOTIFY_FILTER_TYPE_DEVICEINTERFACE;
          filter.u.DeviceInterface.ClassGuid = kUsbDeviceInterface;
          const CONFIGRET cr = reg(&filter, changed_, OnCmNotification, &notification_);
          if (cr == CR_SUCCESS) {
            mechanism_ = "CM_Register_Notification";
            return OkStatus();
          }
          notification_ = nullptr;  // fall back to the window below
        }
      }
    }
    return StartWindow();
  }

  Result<bool> WaitForChange(std::chrono::milliseconds max_wait) override {
    const HANDLE events[] = {changed_, interrupt_};
    const auto ms = static_cast<DWORD>(
        std::clamp<std::chrono::milliseconds::rep>(max_wait.count(), 0, INFINITE - 1));
    const DWORD r = WaitForMultipleObjects(2, events, FALSE, ms);
    if (r == WAIT_OBJECT_0) {
      ResetEvent(changed_);  // before the caller enumerates, so a later change is not lost
      return true;
    }
    if (r == WAIT_OBJECT_0 + 1 || r == WAIT_TIMEOUT) {
      return false;
    }
    return std::unexpected(WindowsError("waiting for USB changes", GetLastError()));
  }

  void Interrupt() override { SetEvent(interrupt_); }

  std::string Mechanism() const override { return mechanism_; }

 private:
  // The window lives on its own thread with its message loop; Start() waits until it is
  // registered (or failed) and returns that.
  Status StartWindow() {
    HANDLE ready = CreateEventW(nullptr, TRUE, FALSE, nullptr);
    if (ready == nullptr) {
      return std::unexpected(WindowsError("creating an event", GetLastError()));
    }
    std::atomic<DWORD> error = ERROR_SUCCESS;
    thread_ = std::thread([this, ready, &error] {
      const HINSTANCE module = GetModuleHandleW(nullptr);
      WNDCLASSEXW cls{};
      cls.cbSize = sizeof(cls);
      cls.lpfnWndProc = WindowProc;
      cls.hInstance = module;
      cls.lpszClassName = L"WardUsbHotplug";
      RegisterClassExW(&cls);  // fails harmlessly when a second instance registered it already
      HWND window = CreateWindowExW(0, L"WardUsbHotplug", L"", 0, 0, 0, 0, 0, HWND_MESSAGE, nullptr,
                                    module, nullptr);
      HDEVNOTIFY notify = nullptr;
      if (window != nullptr) {
        SetWindowLongPtrW(window, GWLP_USERDATA, reinterpret_cast<LONG_PTR>(changed_));
        DEV_BROADCAST_DEVICEINTERFACE_W filter{};
        filter.dbcc_size = sizeof(filter);
        filter.dbcc_devicetype = DBT_DEVTYP_DEVICEINTERFACE;
        filter.dbcc_classguid = kUsbDeviceInterface;
        notify = RegisterDeviceNotificationW(window, &filter, DEVICE_NOTIFY_WINDOW_HANDLE);
      }
      if (window == nullptr || notify == nullptr) {
        error = GetLastError() == ERROR_SUCCESS ? ERROR_GEN_FAILURE : GetLastError();
        if (window != nullptr) {
          DestroyWindow(window);
        }
        SetEvent(ready);
        return;
      }
      window_ = window;
      SetEvent(ready);
      MSG message;
      while (GetMessageW(&message, nullptr, 0, 0) > 0) {
        DispatchMessageW(&message);
      }
      UnregisterDeviceNotification(notify);
      window_ = nullptr;
    });
    WaitForSingleObject(ready, INFINITE);
    CloseHandle(ready);
    if (error != ERROR_SUCCESS) {
      thread_.join();
      return std::unexpected(
          WindowsError("registering for USB device notifications", error.load()));
    }
    mechanism_ = "device-notification window";
    return OkStatus();
  }

  HANDLE changed_;    // manual-reset: a USB device arrived or left
  HANDLE interrupt_;  // auto-reset: Interrupt()
  UnregisterFn unregister_ = nullptr;
  HCMNOTIFICATION notification_ = nullptr;
  std::thread thread_;
  std::atomic<HWND> window_ = nullptr;
  std::string mechanism_;
};

}  // namespace

Result<std::unique_ptr<UsbHotplug>> CreateUsbHotplug(const UsbHotplugOptions& options) {
  HANDLE changed = CreateEventW(nullptr, TRUE, FALSE, nullptr);
  HANDLE interrupt = CreateEventW(nullptr, FALSE, FALSE, nullptr);
  if (changed == nullptr || interrupt == nullptr) {
    const DWORD code = GetLastError();
    for (HANDLE h : {changed, interrupt}) {
      if (h != nullptr) {
        CloseHandle(h);
      }
    }
    return std::unexpected(WindowsError("creating events", code));
  }
  auto hotplug = std::make_unique<WindowsUsbHotplug>(changed, interrupt);
  WARD_RETURN_IF_ERROR(hotplug->Start(options.force_window_fallback));
  return hotplug;
}

}  // namespace ward::platform
