// SPDX-License-Identifier: Apache-2.0
#include "ward/tray/concern_dialog.h"

#include <QBuffer>
#include <QCheckBox>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QFrame>
#include <QGuiApplication>
#include <QHBoxLayout>
#include <QLabel>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QScreen>
#include <QStackedWidget>
#include <QTimer>
#include <QVBoxLayout>

#include "ward/tray/agent_connection.h"

namespace ward::tray {
namespace {

// Limits from event.proto: the text is at most 4000 characters, the PNG at most 4 MiB.
constexpr int kMaxTextChars = 4000;
constexpr qsizetype kMaxScreenshotBytes = 4 * 1024 * 1024;

QLabel* WrappedLabel(const QString& text, QWidget* parent) {
  auto* label = new QLabel(text, parent);
  label->setWordWrap(true);
  label->setTextInteractionFlags(Qt::TextSelectableByMouse | Qt::TextSelectableByKeyboard);
  return label;
}

}  // namespace

ConcernDialog::ConcernDialog(AgentConnection& agent, QWidget* parent)
    : QDialog(parent), agent_(agent) {
  setWindowTitle(tr("Report a concern"));
  setAccessibleName(tr("Report a concern"));
  auto* layout = new QVBoxLayout(this);

  // Emergency help sits above both pages so it stays in view after sending.
  danger_help_ = new QFrame(this);
  danger_help_->setObjectName(QStringLiteral("dangerHelp"));
  danger_help_->setAccessibleName(tr("Emergency help"));
  danger_help_->setStyleSheet(
      QStringLiteral("#dangerHelp { background: #fdecea; border: 2px solid #b3261e; "
                     "border-radius: 6px; } QLabel { color: #3b0b08; }"));
  auto* help_layout = new QVBoxLayout(danger_help_);
  auto* help_title = new QLabel(tr("<b>If you are in danger now, call 999.</b>"), danger_help_);
  help_layout->addWidget(help_title);
  help_layout->addWidget(WrappedLabel(
      tr("Childline: call 0800 1111, free, any time. Or chat at childline.org.uk."), danger_help_));
  help_layout->addWidget(WrappedLabel(
      tr("If someone online is making you feel unsafe, you can also report it to CEOP at "
         "ceop.police.uk."),
      danger_help_));
  help_layout->addWidget(
      WrappedLabel(tr("Your report is still being sent to the safeguarding team."), danger_help_));
  danger_help_->setVisible(false);
  layout->addWidget(danger_help_);

  pages_ = new QStackedWidget(this);
  layout->addWidget(pages_);

  // Page 1: the form.
  auto* form = new QWidget(pages_);
  auto* form_layout = new QVBoxLayout(form);
  form_layout->addWidget(
      WrappedLabel(tr("Tell the safeguarding team about something that worried or upset you. "
                      "You won't be in trouble for reporting."),
                   form));

  auto* category_label = new QLabel(tr("&What happened?"), form);
  category_ = new QComboBox(form);
  category_->setAccessibleName(tr("What happened"));
  category_->addItem(tr("Choose one (optional)"), int{v1::CONCERN_CATEGORY_UNSPECIFIED});
  category_->addItem(tr("Bullying or harassment"), int{v1::CONCERN_CATEGORY_BULLYING});
  category_->addItem(tr("Someone online made me uncomfortable"),
                     int{v1::CONCERN_CATEGORY_UNCOMFORTABLE_CONTACT});
  category_->addItem(tr("Upsetting or harmful content"), int{v1::CONCERN_CATEGORY_HARMFUL_CONTENT});
  category_->addItem(tr("Extremist content"), int{v1::CONCERN_CATEGORY_EXTREMIST_CONTENT});
  category_->addItem(tr("My account or laptop may be hacked"),
                     int{v1::CONCERN_CATEGORY_ACCOUNT_COMPROMISED});
  category_->addItem(tr("Something else"), int{v1::CONCERN_CATEGORY_OTHER});
  category_label->setBuddy(category_);
  form_layout->addWidget(category_label);
  form_layout->addWidget(category_);

  auto* text_label = new QLabel(tr("&Tell us in your own words"), form);
  text_ = new QPlainTextEdit(form);
  text_->setAccessibleName(tr("What happened, in your own words"));
  text_->setPlaceholderText(tr("What happened, when, and who was involved, if you know."));
  text_->setTabChangesFocus(true);  // Tab moves on instead of typing a tab: keyboard-only use
  text_label->setBuddy(text_);
  form_layout->addWidget(text_label);
  form_layout->addWidget(text_, 1);

  auto* shot_row = new QHBoxLayout();
  take_screenshot_ = new QPushButton(tr("Add a &screenshot"), form);
  take_screenshot_->setAccessibleName(tr("Add a screenshot"));
  take_screenshot_->setToolTip(
      tr("This window hides for a moment while your screen is captured. You see it before "
         "anything is sent."));
  remove_screenshot_ = new QPushButton(tr("&Remove screenshot"), form);
  remove_screenshot_->setAccessibleName(tr("Remove screenshot"));
  remove_screenshot_->setVisible(false);
  shot_row->addWidget(take_screenshot_);
  shot_row->addWidget(remove_screenshot_);
  shot_row->addStretch(1);
  form_layout->addLayout(shot_row);
  preview_ = new QLabel(form);
  preview_->setAccessibleName(tr("Screenshot preview"));
  preview_->setFrameShape(QFrame::StyledPanel);
  preview_->setVisible(false);
  form_layout->addWidget(preview_);

  anonymous_ = new QCheckBox(tr("&Don't attach my name"), form);
  anonymous_->setAccessibleName(tr("Don't attach my name"));
  form_layout->addWidget(anonymous_);
  auto* anonymous_note = WrappedLabel(
      tr("Staff will still see which laptop it came from and when, so they may still be able to "
         "work out who you are."),
      form);
  anonymous_note->setVisible(false);
  form_layout->addWidget(anonymous_note);

  danger_ = new QCheckBox(tr("&I'm in danger now"), form);
  danger_->setAccessibleName(tr("I'm in danger now"));
  form_layout->addWidget(danger_);

  status_ = WrappedLabel(QString(), form);
  status_->setAccessibleName(tr("Message"));
  status_->setVisible(false);
  form_layout->addWidget(status_);

  auto* buttons = new QDialogButtonBox(form);
  send_ = buttons->addButton(tr("Se&nd"), QDialogButtonBox::AcceptRole);
  send_->setAccessibleName(tr("Send report"));
  send_->setDefault(true);
  auto* cancel = buttons->addButton(QDialogButtonBox::Cancel);
  cancel->setAccessibleName(tr("Cancel"));
  form_layout->addWidget(buttons);
  pages_->addWidget(form);

  // Page 2: sent.
  auto* done = new QWidget(pages_);
  auto* done_layout = new QVBoxLayout(done);
  result_ = WrappedLabel(QString(), done);
  result_->setTextInteractionFlags(Qt::TextSelectableByMouse);  // no caret after sending
  result_->setAccessibleName(tr("Your reference"));
  done_layout->addWidget(result_);
  received_ = WrappedLabel(tr("Waiting for the safeguarding team to receive it..."), done);
  received_->setAccessibleName(tr("Delivery"));
  done_layout->addWidget(received_);
  done_layout->addStretch(1);
  auto* done_buttons = new QDialogButtonBox(QDialogButtonBox::Close, done);
  done_close_ = done_buttons->button(QDialogButtonBox::Close);
  done_layout->addWidget(done_buttons);
  pages_->addWidget(done);

  connect(text_, &QPlainTextEdit::textChanged, this, &ConcernDialog::updateSendButton);
  connect(danger_, &QCheckBox::toggled, this, [this](bool on) {
    danger_help_->setVisible(on);  // at once, before anything is sent
    updateSendButton();
  });
  connect(anonymous_, &QCheckBox::toggled, anonymous_note, &QWidget::setVisible);
  connect(take_screenshot_, &QPushButton::clicked, this, &ConcernDialog::takeScreenshot);
  connect(remove_screenshot_, &QPushButton::clicked, this, &ConcernDialog::removeScreenshot);
  connect(send_, &QPushButton::clicked, this, &ConcernDialog::send);
  connect(cancel, &QPushButton::clicked, this, &QDialog::reject);
  connect(done_buttons, &QDialogButtonBox::rejected, this, &QDialog::accept);
  connect(&agent_, &AgentConnection::concernSent, this, &ConcernDialog::onSent);
  connect(&agent_, &AgentConnection::concernFailed, this, &ConcernDialog::onFailed);
  connect(&agent_, &AgentConnection::noticeReceived, this, &ConcernDialog::onNotice);

  setMinimumWidth(420);
  resize(460, 520);
  updateSendButton();
}

void ConcernDialog::reset() {
  sending_ = false;
  reference_.clear();
  received_early_.clear();
  category_->setCurrentIndex(0);
  text_->clear();
  anonymous_->setChecked(false);
  danger_->setChecked(false);
  removeScreenshot();
  status_->setVisible(false);
  received_->setText(tr("Waiting for the safeguarding team to receive it..."));
  pages_->setCurrentIndex(0);
  updateSendButton();
  category_->setFocus();
}

bool ConcernDialog::canSend() const {
  if (sending_) {
    return false;
  }
  // Something must be said, unless the learner is in danger: then the report goes regardless.
  return !text_->toPlainText().trimmed().isEmpty() || danger_->isChecked();
}

void ConcernDialog::updateSendButton() {
  if (text_->toPlainText().size() > kMaxTextChars) {
    QString text = text_->toPlainText().left(kMaxTextChars);
    text_->setPlainText(text);
    text_->moveCursor(QTextCursor::End);
  }
  send_->setEnabled(canSend());
}

void ConcernDialog::takeScreenshot() {
  // Hide first so the report window is not in the picture; grab once the desktop has redrawn.
  hide();
  QTimer::singleShot(350, this, &ConcernDialog::grabScreen);
}

void ConcernDialog::grabScreen() {
  QPixmap shot;
  if (QScreen* screen = QGuiApplication::primaryScreen(); screen != nullptr) {
    shot = screen->grabWindow(0);
  }
  show();
  raise();
  activateWindow();
  QByteArray png;
  if (!shot.isNull()) {
    // Big screens are scaled down so the PNG stays under the limit.
    QPixmap scaled =
        shot.width() > 1920 ? shot.scaledToWidth(1920, Qt::SmoothTransformation) : shot;
    QBuffer buffer(&png);
    buffer.open(QIODevice::WriteOnly);
    scaled.save(&buffer, "PNG");
  }
  if (png.isEmpty() || png.size() > kMaxScreenshotBytes) {
    status_->setText(tr("The screenshot didn't work. You can still send your report without it."));
    status_->setVisible(true);
    return;
  }
  screenshot_png_ = png;
  preview_->setPixmap(shot.scaled(360, 200, Qt::KeepAspectRatio, Qt::SmoothTransformation));
  preview_->setVisible(true);
  remove_screenshot_->setVisible(true);
  take_screenshot_->setText(tr("Take it &again"));
  status_->setVisible(false);
  remove_screenshot_->setFocus();
}

void ConcernDialog::removeScreenshot() {
  screenshot_png_.clear();
  preview_->clear();
  preview_->setVisible(false);
  remove_screenshot_->setVisible(false);
  take_screenshot_->setText(tr("Add a &screenshot"));
}

void ConcernDialog::send() {
  if (!canSend()) {
    status_->setText(tr("Please tell us what happened first."));
    status_->setVisible(true);
    text_->setFocus();
    return;
  }
  v1::SubmitConcernRequest request;
  auto category = static_cast<v1::ConcernCategory>(category_->currentData().toInt());
  request.set_category(category == v1::CONCERN_CATEGORY_UNSPECIFIED ? v1::CONCERN_CATEGORY_OTHER
                                                                    : category);
  request.set_text(text_->toPlainText().trimmed().toStdString());
  request.set_anonymous(anonymous_->isChecked());
  request.set_in_danger(danger_->isChecked());
  if (!screenshot_png_.isEmpty()) {
    request.set_screenshot_png(screenshot_png_.constData(),
                               static_cast<std::size_t>(screenshot_png_.size()));
  }
  sending_ = true;
  send_->setEnabled(false);
  status_->setText(tr("Sending..."));
  status_->setVisible(true);
  agent_.submitConcern(request);
}

void ConcernDialog::onSent(const QString& reference) {
  if (!sending_) {
    return;
  }
  sending_ = false;
  reference_ = reference;
  result_->setText(tr("<b>Thank you for telling us.</b><br>Your report is saved on this laptop "
                      "and is on its way. Your reference is <b>%1</b>. You can quote it if you "
                      "talk to someone about this.")
                       .arg(reference.toHtmlEscaped()));
  // The collector can confirm a concern before the agent's answer to the send reaches us (both
  // travel on one connection, and the upload may be faster than the reply is written).
  received_->setText(received_early_.contains(reference)
                         ? tr("Received by the safeguarding team.")
                         : tr("Waiting for the safeguarding team to receive it..."));
  received_early_.clear();
  pages_->setCurrentIndex(1);
  done_close_->setFocus();
}

void ConcernDialog::onFailed(const QString& message, quint32 /*retry_after_seconds*/) {
  if (!sending_) {
    return;
  }
  sending_ = false;
  received_early_.clear();
  status_->setText(message);
  status_->setVisible(true);
  updateSendButton();
}

void ConcernDialog::onNotice(const v1::Notice& notice) {
  if (!notice.has_concern_received()) {
    return;
  }
  const QString reference = QString::fromStdString(notice.concern_received().reference());
  if (sending_) {
    // Our reference is not known yet: this receipt may be for the concern being sent.
    received_early_.insert(reference);
    return;
  }
  if (reference_.isEmpty() || reference != reference_) {
    return;
  }
  received_->setText(tr("Received by the safeguarding team."));
}

}  // namespace ward::tray
