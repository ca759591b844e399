// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <QObject>
#include <QPointer>
#include <QString>

#include "ward/tray/tray_state.h"
#include "ward/v1/ipc.pb.h"

class QAction;
class QLabel;
class QMenu;
class QSystemTrayIcon;
class QTimer;
class QWidget;

namespace ward::tray {

class AgentConnection;
class AupDialog;
class ConcernDialog;
class PolicyDialog;

// The tray application: an icon with the protection state and the learner's menu (My policy,
// Report a concern, Acceptable use agreement, What Ward records about me, About). Without a
// system tray it shows a small window with the same actions instead. Notices from the agent
// appear as tray messages, or in that window. Confined to the GUI thread.
class TrayController final : public QObject {
  Q_OBJECT

 public:
  // `force_window`: use the small window even when a tray exists.
  explicit TrayController(QString socket_path, bool force_window = false,
                          QObject* parent = nullptr);
  ~TrayController() override;

  TrayState state() const { return state_; }
  bool usesTray() const { return tray_ != nullptr; }
  QSystemTrayIcon* trayIcon() const { return tray_; }
  QMenu* menu() const { return menu_; }
  QWidget* fallbackWindow() const { return window_; }
  QLabel* lastNoticeLabel() const { return notice_label_; }
  AgentConnection& agent() const { return *agent_; }

  void openConcern();
  void openPolicy();
  void openRecords();
  void openAup();
  void openAbout();

 private:
  void buildMenu();
  void buildWindow();
  void setState(TrayState state);
  void onStatus(const ward::v1::StatusResponse& status);
  void onPolicy(const ward::v1::PolicySummaryResponse& policy);
  void onNotice(const ward::v1::Notice& notice);

  AgentConnection* agent_;
  QMenu* menu_ = nullptr;
  QSystemTrayIcon* tray_ = nullptr;
  QWidget* window_ = nullptr;
  QLabel* state_label_ = nullptr;
  QLabel* notice_label_ = nullptr;
  QTimer* status_timer_ = nullptr;
  QPointer<ConcernDialog> concern_;
  QPointer<PolicyDialog> policy_;
  QPointer<PolicyDialog> records_;
  QPointer<AupDialog> aup_;
  TrayState state_ = TrayState::kNotRunning;
  ward::v1::PolicySummaryResponse last_policy_;
  bool aup_pending_ = false;
  bool aup_offered_ = false;
  bool want_aup_ = false;
};

}  // namespace ward::tray
