// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <QByteArray>
#include <QDialog>
#include <QPixmap>
#include <QSet>
#include <QString>

#include "ward/v1/ipc.pb.h"

class QCheckBox;
class QComboBox;
class QLabel;
class QPlainTextEdit;
class QPushButton;
class QStackedWidget;
class QWidget;

namespace ward::tray {

class AgentConnection;

// "Report a concern": what happened, in the learner's words, an optional screenshot they take
// and can remove, "Don't attach my name" and "I'm in danger now" (which shows emergency help at
// once). After sending it shows the reference code, then "received by the safeguarding team"
// when the agent says so. Keyboard-only use works; every control has an accessible name.
// Confined to the GUI thread.
class ConcernDialog final : public QDialog {
  Q_OBJECT

 public:
  // `agent` must outlive the dialog.
  explicit ConcernDialog(AgentConnection& agent, QWidget* parent = nullptr);

  // Back to an empty form (used when the dialog is opened again after a report was sent).
  void reset();

  bool canSend() const;
  QString reference() const { return reference_; }

  // Named widgets for tests and screenshots.
  QComboBox* categoryBox() const { return category_; }
  QPlainTextEdit* textEdit() const { return text_; }
  QCheckBox* anonymousBox() const { return anonymous_; }
  QCheckBox* dangerBox() const { return danger_; }
  QWidget* dangerHelp() const { return danger_help_; }
  QPushButton* sendButton() const { return send_; }
  QPushButton* screenshotButton() const { return take_screenshot_; }
  QPushButton* removeScreenshotButton() const { return remove_screenshot_; }
  QLabel* screenshotPreview() const { return preview_; }
  QLabel* statusLabel() const { return status_; }
  QLabel* resultLabel() const { return result_; }
  QLabel* receivedLabel() const { return received_; }
  bool hasScreenshot() const { return !screenshot_png_.isEmpty(); }

 private:
  void updateSendButton();
  void takeScreenshot();
  void grabScreen();
  void removeScreenshot();
  void send();
  void onSent(const QString& reference);
  void onFailed(const QString& message, quint32 retry_after_seconds);
  void onNotice(const ward::v1::Notice& notice);

  AgentConnection& agent_;
  QStackedWidget* pages_;
  QComboBox* category_;
  QPlainTextEdit* text_;
  QCheckBox* anonymous_;
  QCheckBox* danger_;
  QWidget* danger_help_;
  QPushButton* take_screenshot_;
  QPushButton* remove_screenshot_;
  QLabel* preview_;
  QLabel* status_;
  QPushButton* send_;
  QLabel* result_;
  QLabel* received_;
  QPushButton* done_close_;
  QByteArray screenshot_png_;
  QString reference_;
  // Receipts that arrived while a send was in flight, before its reference was known.
  QSet<QString> received_early_;
  bool sending_ = false;
};

}  // namespace ward::tray
