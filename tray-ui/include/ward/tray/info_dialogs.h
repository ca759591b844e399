// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <QDialog>

#include "ward/v1/ipc.pb.h"

class QLabel;
class QPushButton;
class QTextBrowser;

namespace ward::tray {

class AgentConnection;

// "My policy" or "What Ward records about me": plain sentences from the agent and who to ask.
// Asks the agent each time it is shown. Confined to the GUI thread.
class PolicyDialog final : public QDialog {
  Q_OBJECT

 public:
  enum class Page { kPolicy, kRecords };
  // `agent` must outlive the dialog.
  PolicyDialog(AgentConnection& agent, Page page, QWidget* parent = nullptr);

  // Shows the latest summary (also called with each policyReceived).
  void showPolicy(const ward::v1::PolicySummaryResponse& policy);
  QTextBrowser* body() const { return body_; }

 protected:
  void showEvent(QShowEvent* event) override;

 private:
  AgentConnection& agent_;
  Page page_;
  QTextBrowser* body_;
};

// The acceptable-use agreement, in the version for the learner's age group. "I agree" records
// the acceptance with the agent, once per version. Confined to the GUI thread.
class AupDialog final : public QDialog {
  Q_OBJECT

 public:
  AupDialog(AgentConnection& agent, QWidget* parent = nullptr);

  // `pending`: whether this user still has to accept the current version.
  void showAgreement(const ward::v1::PolicySummaryResponse& policy, bool pending);
  QPushButton* agreeButton() const { return agree_; }
  QTextBrowser* body() const { return body_; }

 private:
  AgentConnection& agent_;
  QTextBrowser* body_;
  QLabel* status_;
  QPushButton* agree_;
  quint32 version_ = 0;
};

}  // namespace ward::tray
