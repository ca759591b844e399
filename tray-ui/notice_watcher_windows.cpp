// SPDX-License-Identifier: Apache-2.0
#include <windows.h>

#include <QWinEventNotifier>

#include "internal/notice_watcher.h"

namespace ward::tray::internal {

// The handle is the pipe's manual-reset read event: set while a read has finished, reset when
// IpcClient::PumpNotices() starts the next read.
QObject* WatchNotices(std::intptr_t handle, std::function<void()> ready, QObject* parent) {
  auto* notifier = new QWinEventNotifier(reinterpret_cast<HANDLE>(handle), parent);
  QObject::connect(notifier, &QWinEventNotifier::activated, parent,
                   [ready = std::move(ready)] { ready(); });
  return notifier;
}

void StopWatching(QObject* watcher) {
  if (auto* notifier = qobject_cast<QWinEventNotifier*>(watcher); notifier != nullptr) {
    notifier->setEnabled(false);
    notifier->deleteLater();
  }
}

}  // namespace ward::tray::internal
