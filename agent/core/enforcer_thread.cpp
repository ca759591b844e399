// SPDX-License-Identifier: Apache-2.0
#include "ward/core/enforcer_thread.h"

namespace ward::core {

void EnforcerThread::Start(std::shared_ptr<const ActivePolicy> policy, std::function<void()> loop) {
  {
    std::scoped_lock lock(mutex_);
    next_ = std::move(policy);
    stop_ = false;
  }
  thread_ = std::thread(std::move(loop));
}

void EnforcerThread::Post(std::shared_ptr<const ActivePolicy> policy) {
  {
    std::scoped_lock lock(mutex_);
    next_ = std::move(policy);
  }
  changed_.notify_all();
  wake_();
}

std::shared_ptr<const ActivePolicy> EnforcerThread::TakePolicy() {
  std::scoped_lock lock(mutex_);
  return std::exchange(next_, nullptr);
}

bool EnforcerThread::stopping() const {
  std::scoped_lock lock(mutex_);
  return stop_;
}

void EnforcerThread::Pause(std::chrono::milliseconds limit) {
  std::unique_lock lock(mutex_);
  changed_.wait_for(lock, limit, [&] { return stop_ || next_ != nullptr; });
}

bool EnforcerThread::Stop() {
  if (!thread_.joinable()) {
    return false;
  }
  {
    std::scoped_lock lock(mutex_);
    stop_ = true;
  }
  changed_.notify_all();
  wake_();
  thread_.join();
  return true;
}

}  // namespace ward::core
