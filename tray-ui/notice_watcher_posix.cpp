// SPDX-License-Identifier: Apache-2.0
#include <QSocketNotifier>

#include "internal/notice_watcher.h"

namespace ward::tray::internal {

QObject* WatchNotices(std::intptr_t handle, std::function<void()> ready, QObject* parent) {
  auto* notifier = new QSocketNotifier(static_cast<qintptr>(handle), QSocketNotifier::Read, parent);
  QObject::connect(notifier, &QSocketNotifier::activated, parent,
                   [ready = std::move(ready)] { ready(); });
  return notifier;
}

void StopWatching(QObject* watcher) {
  if (auto* notifier = qobject_cast<QSocketNotifier*>(watcher); notifier != nullptr) {
    notifier->setEnabled(false);
    notifier->deleteLater();
  }
}

}  // namespace ward::tray::internal
