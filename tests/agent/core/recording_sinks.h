// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <chrono>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "ward/core/event_sink.h"

namespace ward::testing {

// Keeps every event and notice, for assertions. Thread-safe.
class RecordingSinks final : public core::EventSink, public core::NoticeSink {
 public:
  void Record(v1::Event event) override {
    std::scoped_lock lock(mutex_);
    events_.push_back(std::move(event));
  }
  void Notify(v1::Notice notice) override {
    std::scoped_lock lock(mutex_);
    notices_.push_back(std::move(notice));
  }
  std::vector<v1::Event> events() const {
    std::scoped_lock lock(mutex_);
    return events_;
  }
  std::vector<v1::Notice> notices() const {
    std::scoped_lock lock(mutex_);
    return notices_;
  }
  // USB events of one kind, in order.
  std::vector<v1::UsbEvent> Usb(v1::UsbEvent::Kind kind) const {
    std::vector<v1::UsbEvent> out;
    for (const auto& e : events()) {
      if (e.has_usb() && e.usb().kind() == kind) {
        out.push_back(e.usb());
      }
    }
    return out;
  }
  std::vector<v1::ExecEvent> Exec() const {
    std::vector<v1::ExecEvent> out;
    for (const auto& e : events()) {
      if (e.has_exec()) {
        out.push_back(e.exec());
      }
    }
    return out;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<v1::Event> events_;
  std::vector<v1::Notice> notices_;
};

// Waits (up to 10 s) for `done` to hold; for state another thread produces. Returns done().
inline bool Eventually(const std::function<bool()>& done) {
  const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!done()) {
    if (std::chrono::steady_clock::now() > end) {
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return true;
}

}  // namespace ward::testing
