// SPDX-License-Identifier: Apache-2.0
// Waits, inside a Qt event loop, for the agent's notices on IpcClient::native_handle(): a
// QSocketNotifier on the socket on Linux (notice_watcher_posix.cpp), a QWinEventNotifier on the
// pipe's read event on Windows (notice_watcher_windows.cpp).
#pragma once

#include <QObject>

#include <cstdint>
#include <functional>

namespace ward::tray::internal {

// Calls `ready` on the calling thread whenever `handle` has something to read. The returned
// object is a child of `parent`; StopWatching() must be called on it before the handle closes.
QObject* WatchNotices(std::intptr_t handle, std::function<void()> ready, QObject* parent);

// Stops the watch at once and deletes the watcher later. Null is allowed.
void StopWatching(QObject* watcher);

}  // namespace ward::tray::internal
