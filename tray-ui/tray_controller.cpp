// SPDX-License-Identifier: Apache-2.0
#include "ward/tray/tray_controller.h"

#include <QAction>
#include <QApplication>
#include <QLabel>
#include <QMenu>
#include <QMessageBox>
#include <QPushButton>
#include <QSystemTrayIcon>
#include <QTimer>
#include <QVBoxLayout>
#include <QWidget>

#include "ward/tray/agent_connection.h"
#include "ward/tray/concern_dialog.h"
#include "ward/tray/info_dialogs.h"

namespace ward::tray {
namespace {

template <typename Dialog>
void Present(Dialog* dialog) {
  dialog->show();
  dialog->raise();
  dialog->activateWindow();
}

}  // namespace

TrayController::TrayController(QString socket_path, bool force_window, QObject* parent)
    : QObject(parent), agent_(new AgentConnection(std::move(socket_path), this)) {
  buildMenu();
  if (!force_window && QSystemTrayIcon::isSystemTrayAvailable()) {
    tray_ = new QSystemTrayIcon(this);
    tray_->setContextMenu(menu_);
    connect(tray_, &QSystemTrayIcon::activated, this,
            [this](QSystemTrayIcon::ActivationReason reason) {
              if (reason == QSystemTrayIcon::Trigger) {
                menu_->popup(QCursor::pos());
              }
            });
  } else {
    // No tray (e.g. GNOME on Wayland without the extension): a small window instead.
    buildWindow();
  }
  setState(TrayState::kNotRunning);
  if (tray_ != nullptr) {
    tray_->show();  // after setState: the icon is set before it is shown
  }

  connect(agent_, &AgentConnection::connectedChanged, this, [this](bool connected) {
    if (connected) {
      agent_->requestStatus();
      agent_->requestPolicy();  // contacts for notices ("who to ask")
    } else {
      setState(TrayState::kNotRunning);
    }
  });
  connect(agent_, &AgentConnection::statusReceived, this, &TrayController::onStatus);
  connect(agent_, &AgentConnection::policyReceived, this, &TrayController::onPolicy);
  connect(agent_, &AgentConnection::noticeReceived, this, &TrayController::onNotice);
  // The icon leaves "needs attention" as soon as the agreement is recorded.
  connect(agent_, &AgentConnection::aupAccepted, agent_, &AgentConnection::requestStatus);
  status_timer_ = new QTimer(this);
  status_timer_->setInterval(60'000);
  connect(status_timer_, &QTimer::timeout, agent_, &AgentConnection::requestStatus);
  status_timer_->start();
}

TrayController::~TrayController() {
  delete concern_;
  delete policy_;
  delete records_;
  delete aup_;
  delete window_;
  delete menu_;
}

void TrayController::buildMenu() {
  menu_ = new QMenu();
  menu_->setAccessibleName(tr("Ward"));
  menu_->addAction(tr("&My policy"), this, &TrayController::openPolicy);
  menu_->addAction(tr("&Report a concern"), this, &TrayController::openConcern);
  menu_->addAction(tr("&Acceptable use agreement"), this, &TrayController::openAup);
  menu_->addAction(tr("&What Ward records about me"), this, &TrayController::openRecords);
  menu_->addSeparator();
  menu_->addAction(tr("A&bout Ward"), this, &TrayController::openAbout);
}

void TrayController::buildWindow() {
  window_ = new QWidget();
  window_->setWindowTitle(tr("Ward"));
  window_->setAccessibleName(tr("Ward"));
  auto* layout = new QVBoxLayout(window_);
  state_label_ = new QLabel(window_);
  state_label_->setWordWrap(true);
  state_label_->setAccessibleName(tr("Protection status"));
  layout->addWidget(state_label_);
  notice_label_ = new QLabel(window_);
  notice_label_->setWordWrap(true);
  notice_label_->setAccessibleName(tr("Latest message"));
  notice_label_->setStyleSheet(
      QStringLiteral("QLabel { background: #eef3fb; border: 1px solid #8aa4cc; border-radius: 4px; "
                     "padding: 6px; }"));
  notice_label_->setVisible(false);
  layout->addWidget(notice_label_);
  for (QAction* action : menu_->actions()) {
    if (action->isSeparator()) {
      continue;
    }
    auto* button = new QPushButton(action->text(), window_);
    button->setAccessibleName(action->text().remove(QLatin1Char('&')));
    connect(button, &QPushButton::clicked, action, &QAction::trigger);
    layout->addWidget(button);
  }
  window_->setMinimumWidth(340);
  window_->resize(340, 260);
  window_->show();
}

void TrayController::setState(TrayState state) {
  state_ = state;
  const QIcon icon = StateIcon(state);
  const QString text = StateText(state);
  if (tray_ != nullptr) {
    tray_->setIcon(icon);
    tray_->setToolTip(text);
  }
  if (window_ != nullptr) {
    window_->setWindowIcon(icon);
    state_label_->setText(text);
  }
}

void TrayController::onStatus(const v1::StatusResponse& status) {
  aup_pending_ = status.aup_pending();
  setState(StateFromStatus(status));
  if (aup_pending_ && !aup_offered_) {
    // Offer the agreement once per session; the menu always has it.
    aup_offered_ = true;
    openAup();
  }
}

void TrayController::onPolicy(const v1::PolicySummaryResponse& policy) {
  last_policy_ = policy;
  if (want_aup_ && aup_ != nullptr) {
    want_aup_ = false;
    aup_->showAgreement(policy, aup_pending_);
    Present(aup_.data());
  }
}

void TrayController::onNotice(const v1::Notice& notice) {
  if (notice.has_policy_changed()) {
    agent_->requestStatus();
  }
  const NoticeText text = FormatNotice(notice, last_policy_.contacts());
  if (text.title.isEmpty()) {
    return;
  }
  if (tray_ != nullptr) {
    tray_->showMessage(text.title, text.body, QSystemTrayIcon::Information, 15'000);
  }
  if (notice_label_ != nullptr) {
    notice_label_->setText(
        QStringLiteral("<b>") + text.title.toHtmlEscaped() + QStringLiteral("</b><br>") +
        text.body.toHtmlEscaped().replace(QLatin1Char('\n'), QStringLiteral("<br>")));
    notice_label_->setVisible(true);
    window_->adjustSize();
    window_->show();
    window_->raise();
  }
}

void TrayController::openConcern() {
  if (concern_ == nullptr) {
    concern_ = new ConcernDialog(*agent_);
  } else if (!concern_->isVisible() && !concern_->reference().isEmpty()) {
    concern_->reset();  // a fresh form after a report was sent
  }
  Present(concern_.data());
}

void TrayController::openPolicy() {
  if (policy_ == nullptr) {
    policy_ = new PolicyDialog(*agent_, PolicyDialog::Page::kPolicy);
  }
  Present(policy_.data());
}

void TrayController::openRecords() {
  if (records_ == nullptr) {
    records_ = new PolicyDialog(*agent_, PolicyDialog::Page::kRecords);
  }
  Present(records_.data());
}

void TrayController::openAup() {
  if (aup_ == nullptr) {
    aup_ = new AupDialog(*agent_);
  }
  want_aup_ = true;
  agent_->requestPolicy();  // shown when the agreement text arrives
}

void TrayController::openAbout() {
  QMessageBox::about(
      window_, tr("About Ward"),
      tr("<p><b>Ward</b> keeps this laptop safe to use for your course.</p>"
         "<p>It blocks some USB devices and programs and keeps a short record of that. "
         "\"What Ward records about me\" lists everything it keeps. It does not read your "
         "messages or watch your screen.</p>"
         "<p>\"Report a concern\" sends a report to the safeguarding team, who are there to "
         "help.</p>"));
}

}  // namespace ward::tray
