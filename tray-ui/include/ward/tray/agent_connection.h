// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <QObject>
#include <QString>
#include <QThread>

#include "ward/v1/ipc.pb.h"

namespace ward::tray {

namespace internal {
class AgentWorker;
}

// The tray's link to ward-agent. Every IPC call runs on a worker thread of its own, so the GUI
// never waits on the agent; results come back as signals on the GUI thread. While the agent is
// unreachable it retries every few seconds and reports connectedChanged(false).
// Confined to the GUI thread (the thread that created it).
class AgentConnection final : public QObject {
  Q_OBJECT

 public:
  explicit AgentConnection(QString socket_path, QObject* parent = nullptr);
  ~AgentConnection() override;

  bool isConnected() const { return connected_; }

  // Each request answers with exactly one of its signals.
  void requestStatus();
  void requestPolicy();
  void submitConcern(const ward::v1::SubmitConcernRequest& request);
  void acceptAup(quint32 version);

 signals:
  void connectedChanged(bool connected);
  void statusReceived(const ward::v1::StatusResponse& status);
  void statusFailed(const QString& message);
  void policyReceived(const ward::v1::PolicySummaryResponse& policy);
  void policyFailed(const QString& message);
  void concernSent(const QString& reference);
  // `message` is safe to show; retry_after_seconds is non-zero when the learner must wait.
  void concernFailed(const QString& message, quint32 retry_after_seconds);
  void aupAccepted(quint32 version);
  void aupFailed(const QString& message);
  void noticeReceived(const ward::v1::Notice& notice);

 private:
  friend class internal::AgentWorker;
  void setConnected(bool connected);

  QThread thread_;
  internal::AgentWorker* worker_;  // lives on thread_, deleted when it finishes
  bool connected_ = false;
};

}  // namespace ward::tray
