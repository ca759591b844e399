// SPDX-License-Identifier: Apache-2.0
// UeventSource on Windows, for the OS-neutral USB enforcer: Windows' hot-plug notifications
// (CreateUsbHotplug: CM_Register_Notification, or a device-notification window) say only that
// something arrived or left, so each one is a kRescan event and the enforcer enumerates and
// judges what changed (DeviceControl::Enumerate).
#include <atomic>
#include <memory>

#include "ward/platform/uevent_source.h"
#include "ward/platform/usb_hotplug.h"

namespace ward::platform {
namespace {

class HotplugUeventSource final : public UeventSource {
 public:
  explicit HotplugUeventSource(std::unique_ptr<UsbHotplug> hotplug)
      : hotplug_(std::move(hotplug)) {}

  Result<std::optional<UsbHotplugEvent>> Next(std::chrono::milliseconds max_wait) override {
    WARD_ASSIGN_OR_RETURN(const bool changed, hotplug_->WaitForChange(max_wait));
    if (!changed) {
      return std::optional<UsbHotplugEvent>();
    }
    accepted_.fetch_add(1, std::memory_order_relaxed);
    UsbHotplugEvent event;
    event.kind = UsbHotplugEvent::Kind::kRescan;
    return std::optional<UsbHotplugEvent>(std::move(event));
  }

  void Interrupt() override { hotplug_->Interrupt(); }

  UeventSourceStats Stats() const override {
    return UeventSourceStats{.accepted = accepted_.load(std::memory_order_relaxed)};
  }

 private:
  std::unique_ptr<UsbHotplug> hotplug_;
  std::atomic<std::uint64_t> accepted_{0};
};

}  // namespace

Result<std::unique_ptr<UeventSource>> CreateUeventSource(const UeventSourceOptions& /*options*/) {
  WARD_ASSIGN_OR_RETURN(auto hotplug, CreateUsbHotplug({}));
  return std::unique_ptr<UeventSource>(std::make_unique<HotplugUeventSource>(std::move(hotplug)));
}

}  // namespace ward::platform
