// SPDX-License-Identifier: Apache-2.0
// ward-tray on Windows, end to end under Wine + Xvfb: the tray on Qt's real `windows` platform
// plugin with a system tray icon, connected over a named pipe to a real IpcServer backed by the
// test AgentControl; a concern goes through the real dialog (opened from the tray menu, filled
// and sent with QTest's keyboard and mouse) to the agent side; the receipt notice comes back
// over the pipe (QWinEventNotifier). Then the real ward-tray.exe: it connects, and a second one
// in the same session quits at once.
#include <QAction>
#include <QCheckBox>
#include <QComboBox>
#include <QLabel>
#include <QMenu>
#include <QPlainTextEdit>
#include <QProcess>
#include <QPushButton>
#include <QSystemTrayIcon>

#include "../tray-ui/tray_test_env.h"
#include "ward/testing/paths.h"
#include "ward/tray/concern_dialog.h"
#include "ward/tray/tray_controller.h"
#include "ward/tray/tray_state.h"

namespace ward::tray {
namespace {

using testing::WaitFor;

ConcernDialog* VisibleConcernDialog() {
  for (QWidget* w : QApplication::topLevelWidgets()) {
    if (auto* d = qobject_cast<ConcernDialog*>(w); d != nullptr && d->isVisible()) {
      return d;
    }
  }
  return nullptr;
}

QAction* MenuAction(QMenu* menu, const QString& text) {
  for (QAction* action : menu->actions()) {
    if (action->text() == text) {
      return action;
    }
  }
  return nullptr;
}

class TrayWindowsTest : public testing::TrayControllerTest {
 protected:
  // Before the first test makes the QApplication. Wine does not pass QT_* variables from Linux
  // into the Windows environment, so ctest cannot set this.
  static void SetUpTestSuite() { qputenv("QT_QPA_PLATFORM", "windows"); }
};

TEST_F(TrayWindowsTest, ShowsItsIconInTheWindowsTray) {
  EXPECT_EQ(QGuiApplication::platformName(), QStringLiteral("windows"));
  ASSERT_TRUE(QSystemTrayIcon::isSystemTrayAvailable());
  ASSERT_TRUE(controller_->usesTray());
  EXPECT_TRUE(controller_->trayIcon()->isVisible());
  EXPECT_EQ(controller_->fallbackWindow(), nullptr);
  // The test agent's learner has not accepted the agreement yet: the icon asks for attention.
  EXPECT_TRUE(WaitFor([&] { return controller_->state() == TrayState::kNeedsAttention; }));
  EXPECT_EQ(controller_->trayIcon()->toolTip(), StateText(TrayState::kNeedsAttention));
}

TEST_F(TrayWindowsTest, AConcernGoesFromTheMenuThroughTheDialogToTheAgent) {
  QAction* report = MenuAction(controller_->menu(), QStringLiteral("&Report a concern"));
  ASSERT_NE(report, nullptr);
  report->trigger();
  ConcernDialog* dialog = nullptr;
  ASSERT_TRUE(WaitFor([&] { return (dialog = VisibleConcernDialog()) != nullptr; }));
  ASSERT_NE(dialog->winId(), WId{0});  // a real Win32 window
  // The same names a screen reader reads out on Linux (en_GB).
  EXPECT_EQ(dialog->sendButton()->accessibleName(), QStringLiteral("Send report"));
  EXPECT_EQ(dialog->textEdit()->accessibleName(),
            QStringLiteral("What happened, in your own words"));
  EXPECT_EQ(dialog->anonymousBox()->accessibleName(), QStringLiteral("Don't attach my name"));

  // Keyboard: pick the second category, type, tick "Don't attach my name", press Send.
  dialog->categoryBox()->setFocus();
  QTest::keyClick(dialog->categoryBox(), Qt::Key_Down);
  QTest::keyClicks(dialog->textEdit(), QStringLiteral("They post about me every day"));
  QTest::mouseClick(dialog->anonymousBox(), Qt::LeftButton, {},
                    QPoint(8, dialog->anonymousBox()->height() / 2));
  ASSERT_TRUE(dialog->anonymousBox()->isChecked());
  QTest::mouseClick(dialog->sendButton(), Qt::LeftButton);

  ASSERT_TRUE(WaitFor([&] { return control_.concerns().size() == 1; }));
  const auto concern = control_.concerns()[0].request;
  EXPECT_EQ(concern.category(), v1::CONCERN_CATEGORY_BULLYING);
  EXPECT_EQ(concern.text(), "They post about me every day");
  EXPECT_TRUE(concern.anonymous());
  EXPECT_FALSE(concern.in_danger());
  // The agent side knows who sent it: the pipe client's SID, not a name the tray claims.
  EXPECT_FALSE(control_.concerns()[0].caller.user_id.empty());

  ASSERT_TRUE(WaitFor([&] { return dialog->reference() == QStringLiteral("K7QF-2M91"); }));
  v1::Notice receipt;
  receipt.mutable_concern_received()->set_reference("K7QF-2M91");
  server_->Notify(receipt);
  EXPECT_TRUE(WaitFor([&] {
    return dialog->receivedLabel()->text().contains(
        QStringLiteral("Received by the safeguarding team"));
  }));
}

TEST_F(TrayWindowsTest, TheRealTrayProgramConnectsAndRunsOncePerSession) {
  const int before = control_.subscriptions();
  const QString exe = QString::fromStdWString(ward::testing::BuiltFile(WARD_TRAY_EXE).wstring());
  QProcess first;
  first.start(exe, {QStringLiteral("--socket"), Endpoint()});
  ASSERT_TRUE(first.waitForStarted(30'000)) << first.errorString().toStdString();
  ASSERT_TRUE(WaitFor([&] { return control_.subscriptions() > before; }, 60'000));

  QProcess second;
  second.start(exe, {QStringLiteral("--socket"), Endpoint()});
  ASSERT_TRUE(second.waitForStarted(30'000));
  ASSERT_TRUE(second.waitForFinished(60'000));
  EXPECT_EQ(second.exitStatus(), QProcess::NormalExit);
  EXPECT_EQ(second.exitCode(), 0);
  EXPECT_EQ(control_.subscriptions(), before + 1);  // the second never connected
  EXPECT_EQ(first.state(), QProcess::Running);

  first.kill();
  EXPECT_TRUE(first.waitForFinished(30'000));
}

}  // namespace
}  // namespace ward::tray
