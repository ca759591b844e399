// SPDX-License-Identifier: Apache-2.0
#include "ward/tray/concern_dialog.h"

#include <QCheckBox>
#include <QComboBox>
#include <QLabel>
#include <QPlainTextEdit>
#include <QPushButton>

#include "tray_test_env.h"

namespace ward::tray {
namespace {

using testing::TrayTest;
using testing::WaitFor;

class ConcernDialogTest : public TrayTest {
 protected:
  void SetUp() override {
    TrayTest::SetUp();
    dialog_ = std::make_unique<ConcernDialog>(Connect());
    dialog_->show();
  }
  void TearDown() override {
    dialog_.reset();
    TrayTest::TearDown();
  }

  void Type(const QString& text) { QTest::keyClicks(dialog_->textEdit(), text); }
  void Send() { QTest::mouseClick(dialog_->sendButton(), Qt::LeftButton); }
  // Clicks the box itself (the middle of a wide check box can be empty space).
  static void Tick(QCheckBox* box) {
    QTest::mouseClick(box, Qt::LeftButton, {}, QPoint(8, box->height() / 2));
  }
  bool WaitForConcerns(std::size_t n) {
    return WaitFor([&] { return control_.concerns().size() >= n; });
  }

  std::unique_ptr<ConcernDialog> dialog_;
};

TEST_F(ConcernDialogTest, CannotSendAnEmptyReport) {
  EXPECT_FALSE(dialog_->sendButton()->isEnabled());
  Type(QStringLiteral("   "));
  EXPECT_FALSE(dialog_->sendButton()->isEnabled());
  Type(QStringLiteral("Someone keeps messaging me"));
  EXPECT_TRUE(dialog_->sendButton()->isEnabled());
  dialog_->textEdit()->clear();
  EXPECT_FALSE(dialog_->sendButton()->isEnabled());
  Send();  // a disabled button does nothing
  QTest::qWait(100);
  EXPECT_TRUE(control_.concerns().empty());
}

TEST_F(ConcernDialogTest, SendsCategoryTextAndAnonymousFlag) {
  dialog_->categoryBox()->setCurrentIndex(2);  // someone online made me uncomfortable
  Type(QStringLiteral("A stranger asked for photos"));
  Tick(dialog_->anonymousBox());
  ASSERT_TRUE(dialog_->anonymousBox()->isChecked());
  Send();
  ASSERT_TRUE(WaitForConcerns(1));
  const auto concern = control_.concerns()[0].request;
  EXPECT_EQ(concern.category(), v1::CONCERN_CATEGORY_UNCOMFORTABLE_CONTACT);
  EXPECT_EQ(concern.text(), "A stranger asked for photos");
  EXPECT_TRUE(concern.anonymous());
  EXPECT_FALSE(concern.in_danger());
  EXPECT_TRUE(concern.screenshot_png().empty());
}

TEST_F(ConcernDialogTest, WorksWithTheKeyboardAlone) {
  dialog_->categoryBox()->setFocus();
  QTest::keyClick(dialog_->categoryBox(), Qt::Key_Down);  // bullying or harassment
  QTest::keyClick(dialog_->categoryBox(), Qt::Key_Tab);
  Type(QStringLiteral("They post about me every day"));
  QTest::keyClick(dialog_->anonymousBox(), Qt::Key_Space);
  QTest::keyClick(dialog_->anonymousBox(), Qt::Key_Return);  // the default button: Send
  ASSERT_TRUE(WaitForConcerns(1));
  const auto concern = control_.concerns()[0].request;
  EXPECT_EQ(concern.category(), v1::CONCERN_CATEGORY_BULLYING);
  EXPECT_TRUE(concern.anonymous());
}

TEST_F(ConcernDialogTest, DangerShowsEmergencyHelpAtOnceAndStillSends) {
  EXPECT_FALSE(dialog_->dangerHelp()->isVisible());
  Tick(dialog_->dangerBox());
  // No waiting: the help is there the moment the box is ticked.
  ASSERT_TRUE(dialog_->dangerHelp()->isVisible());
  QString help;
  for (const QLabel* label : dialog_->dangerHelp()->findChildren<QLabel*>()) {
    help += label->text() + QLatin1Char('\n');
  }
  EXPECT_TRUE(help.contains(QStringLiteral("999")));
  EXPECT_TRUE(help.contains(QStringLiteral("0800 1111")));
  EXPECT_TRUE(help.contains(QStringLiteral("CEOP")));
  // Even with nothing typed, a learner in danger can send.
  EXPECT_TRUE(dialog_->sendButton()->isEnabled());
  Send();
  ASSERT_TRUE(WaitForConcerns(1));
  EXPECT_TRUE(control_.concerns()[0].request.in_danger());
  ASSERT_TRUE(WaitFor([&] { return !dialog_->reference().isEmpty(); }));
  EXPECT_TRUE(dialog_->dangerHelp()->isVisible());
}

TEST_F(ConcernDialogTest, ScreenshotIsPreviewedAndCanBeRemoved) {
  EXPECT_FALSE(dialog_->hasScreenshot());
  QTest::mouseClick(dialog_->screenshotButton(), Qt::LeftButton);
  ASSERT_TRUE(WaitFor([&] { return dialog_->screenshotPreview()->isVisible(); }));
  EXPECT_TRUE(dialog_->hasScreenshot());
  EXPECT_TRUE(dialog_->isVisible());  // back after the capture
  ASSERT_TRUE(dialog_->removeScreenshotButton()->isVisible());
  QTest::mouseClick(dialog_->removeScreenshotButton(), Qt::LeftButton);
  EXPECT_FALSE(dialog_->hasScreenshot());
  EXPECT_FALSE(dialog_->screenshotPreview()->isVisible());
  Type(QStringLiteral("Changed my mind about the picture"));
  Send();
  ASSERT_TRUE(WaitForConcerns(1));
  EXPECT_TRUE(control_.concerns()[0].request.screenshot_png().empty());
}

TEST_F(ConcernDialogTest, KeptScreenshotIsSentAsPng) {
  QTest::mouseClick(dialog_->screenshotButton(), Qt::LeftButton);
  ASSERT_TRUE(WaitFor([&] { return dialog_->hasScreenshot(); }));
  Type(QStringLiteral("This message"));
  Send();
  ASSERT_TRUE(WaitForConcerns(1));
  const std::string png = control_.concerns()[0].request.screenshot_png();
  ASSERT_GT(png.size(), 8u);
  EXPECT_EQ(png.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
}

TEST_F(ConcernDialogTest, ShowsReferenceThenReceivedWhenTheTeamHasIt) {
  Type(QStringLiteral("Upsetting video in a group chat"));
  Send();
  ASSERT_TRUE(WaitFor([&] { return !dialog_->reference().isEmpty(); }));
  EXPECT_EQ(dialog_->reference(), QStringLiteral("K7QF-2M91"));
  EXPECT_TRUE(dialog_->resultLabel()->isVisible());
  EXPECT_TRUE(dialog_->resultLabel()->text().contains(QStringLiteral("K7QF-2M91")));
  EXPECT_TRUE(dialog_->receivedLabel()->text().contains(QStringLiteral("Waiting")));

  v1::Notice other;
  other.mutable_concern_received()->set_reference("ZZZZ-0000");
  server_->Notify(other);
  v1::Notice mine;
  mine.mutable_concern_received()->set_reference("K7QF-2M91");
  server_->Notify(mine);
  ASSERT_TRUE(WaitFor([&] {
    return dialog_->receivedLabel()->text().contains(
        QStringLiteral("Received by the safeguarding team"));
  }));
}

// The agent's answer and the collector's receipt travel on one connection; when the upload is
// quick, the receipt is read in the same chunk as the answer and reaches the dialog first.
TEST_F(ConcernDialogTest, AReceiptThatOvertakesTheAnswerIsNotLost) {
  Type(QStringLiteral("Someone shared my photo"));
  Send();
  // No event has been processed since the click, so the answer cannot have arrived yet.
  ASSERT_TRUE(dialog_->reference().isEmpty());
  v1::Notice receipt;
  receipt.mutable_concern_received()->set_reference("K7QF-2M91");
  emit agent_->noticeReceived(receipt);
  ASSERT_TRUE(WaitFor([&] { return !dialog_->reference().isEmpty(); }));
  EXPECT_EQ(dialog_->reference(), QStringLiteral("K7QF-2M91"));
  EXPECT_TRUE(dialog_->receivedLabel()->text().contains(
      QStringLiteral("Received by the safeguarding team")));
}

TEST_F(ConcernDialogTest, ExplainsWhenReportsAreComingTooFast) {
  server_.reset();
  ASSERT_TRUE(WaitFor([&] { return !agent_->isConnected(); }));
  agent::ipc::IpcServerOptions options;
  options.concern_limit = {.burst = 1, .refill_every = std::chrono::seconds(300)};
  StartServer(options);
  ASSERT_TRUE(WaitFor([&] { return agent_->isConnected(); }));
  Type(QStringLiteral("first"));
  Send();
  ASSERT_TRUE(WaitFor([&] { return !dialog_->reference().isEmpty(); }));
  dialog_->reset();
  Type(QStringLiteral("second"));
  Send();
  ASSERT_TRUE(WaitFor([&] {
    return dialog_->statusLabel()->text().contains(QStringLiteral("Please wait 5 minutes"));
  }));
  EXPECT_TRUE(dialog_->sendButton()->isEnabled());  // nothing lost: the text is still there
  EXPECT_EQ(dialog_->textEdit()->toPlainText(), QStringLiteral("second"));
}

TEST_F(ConcernDialogTest, SaysPlainlyWhenTheAgentIsNotRunning) {
  server_.reset();
  ASSERT_TRUE(WaitFor([&] { return !agent_->isConnected(); }));
  Type(QStringLiteral("hello"));
  Send();
  ASSERT_TRUE(WaitFor([&] {
    return dialog_->statusLabel()->text().contains(QStringLiteral("Ward isn't running"));
  }));
  EXPECT_TRUE(dialog_->sendButton()->isEnabled());
}

}  // namespace
}  // namespace ward::tray
