// SPDX-License-Identifier: Apache-2.0
#include "ward/tray/tray_controller.h"

#include <QLabel>
#include <QMenu>
#include <QPushButton>
#include <QSignalSpy>
#include <QSystemTrayIcon>
#include <QTextBrowser>

#include "tray_test_env.h"
#include "ward/tray/info_dialogs.h"

namespace ward::tray {
namespace {

using testing::TrayControllerTest;
using testing::TrayTest;
using testing::WaitFor;

template <typename T>
T* VisibleTopLevel() {
  for (QWidget* w : QApplication::topLevelWidgets()) {
    if (auto* t = qobject_cast<T*>(w); t != nullptr && t->isVisible()) {
      return t;
    }
  }
  return nullptr;
}

TEST_F(TrayControllerTest, FallsBackToASmallWindowWithoutASystemTray) {
  ASSERT_FALSE(QSystemTrayIcon::isSystemTrayAvailable());  // the offscreen platform has none
  EXPECT_FALSE(controller_->usesTray());
  ASSERT_NE(controller_->fallbackWindow(), nullptr);
  EXPECT_TRUE(controller_->fallbackWindow()->isVisible());
  QStringList buttons;
  for (const QPushButton* b : controller_->fallbackWindow()->findChildren<QPushButton*>()) {
    buttons << b->accessibleName();
  }
  EXPECT_EQ(buttons, (QStringList{QStringLiteral("My policy"), QStringLiteral("Report a concern"),
                                  QStringLiteral("Acceptable use agreement"),
                                  QStringLiteral("What Ward records about me"),
                                  QStringLiteral("About Ward")}));
}

TEST_F(TrayControllerTest, MenuHasTheLearnersFiveActions) {
  QStringList texts;
  for (const QAction* a : controller_->menu()->actions()) {
    if (!a->isSeparator()) {
      texts << a->text().remove(QLatin1Char('&'));
    }
  }
  EXPECT_EQ(texts.size(), 5);
  EXPECT_TRUE(texts.contains(QStringLiteral("Report a concern")));
}

TEST_F(TrayControllerTest, StateFollowsTheAgent) {
  // The test policy still needs the AUP accepting: that is "needs attention".
  ASSERT_TRUE(WaitFor([&] { return controller_->state() == TrayState::kNeedsAttention; }));
  server_.reset();
  ASSERT_TRUE(WaitFor([&] { return controller_->state() == TrayState::kNotRunning; }));
}

TEST_F(TrayControllerTest, OffersTheAgreementOnceAndRecordsAcceptance) {
  AupDialog* aup = nullptr;
  ASSERT_TRUE(WaitFor([&] { return (aup = VisibleTopLevel<AupDialog>()) != nullptr; }));
  EXPECT_TRUE(aup->body()->toPlainText().contains(QStringLiteral("Be kind online")));  // under-18
  ASSERT_TRUE(aup->agreeButton()->isVisible());
  QTest::mouseClick(aup->agreeButton(), Qt::LeftButton);
  ASSERT_TRUE(WaitFor([&] { return control_.aup_acceptances() == 1; }));
  ASSERT_TRUE(WaitFor([&] { return !aup->agreeButton()->isVisible(); }));
  ASSERT_TRUE(WaitFor([&] { return controller_->state() == TrayState::kProtected; }));
  // Opening it again shows it as agreed, with nothing to press.
  aup->hide();
  controller_->openAup();
  ASSERT_TRUE(WaitFor([&] { return aup->isVisible(); }));
  EXPECT_FALSE(aup->agreeButton()->isVisible());
  EXPECT_EQ(control_.aup_acceptances(), 1);
}

TEST_F(TrayControllerTest, ShowsBlockedDeviceNoticeWithPolicyMessageAndWhoToAsk) {
  // Contacts arrive with a policy summary; answers come in order, and the controller hears each
  // one before this spy does.
  QSignalSpy policy(&controller_->agent(), &AgentConnection::policyReceived);
  controller_->agent().requestPolicy();
  ASSERT_TRUE(WaitFor([&] { return policy.count() >= 1; }));
  v1::Notice notice;
  notice.mutable_usb_blocked()->set_device_name("SanDisk Cruzer");
  notice.mutable_usb_blocked()->set_message("Memory sticks are blocked. Use OneDrive instead.");
  server_->Notify(notice);
  ASSERT_TRUE(WaitFor([&] { return controller_->lastNoticeLabel()->isVisible(); }));
  const QString text = controller_->lastNoticeLabel()->text();
  EXPECT_TRUE(text.contains(QStringLiteral("SanDisk Cruzer was blocked")));
  EXPECT_TRUE(text.contains(QStringLiteral("Use OneDrive instead.")));
  EXPECT_TRUE(text.contains(QStringLiteral("Sam Patel")));
}

TEST_F(TrayControllerTest, PolicyViewShowsPlainSentencesAndContacts) {
  controller_->openPolicy();
  PolicyDialog* policy = nullptr;
  ASSERT_TRUE(WaitFor([&] {
    policy = VisibleTopLevel<PolicyDialog>();
    return policy != nullptr &&
           policy->body()->toPlainText().contains(QStringLiteral("USB memory sticks are blocked"));
  }));
  EXPECT_TRUE(policy->body()->toPlainText().contains(QStringLiteral("Sam Patel")));
}

TEST_F(TrayControllerTest, RecordsViewListsWhatWardKeeps) {
  controller_->openRecords();
  ASSERT_TRUE(WaitFor([&] {
    auto* records = VisibleTopLevel<PolicyDialog>();
    return records != nullptr && records->body()->toPlainText().contains(
                                     QStringLiteral("Which programs were blocked from running."));
  }));
  const QString text = VisibleTopLevel<PolicyDialog>()->body()->toPlainText();
  EXPECT_TRUE(text.contains(QStringLiteral("How long: As long as safeguarding rules say.")));
  EXPECT_TRUE(text.contains(QStringLiteral("Who can see it: Only the safeguarding team.")));
  EXPECT_TRUE(text.contains(QStringLiteral("ask for it to be deleted")));
}

// An agent from before `kept` sends only the lines: they are still shown.
TEST_F(TrayTest, RecordsViewShowsTheLinesOfAnOlderAgent) {
  PolicyDialog dialog(Connect(), PolicyDialog::Page::kRecords);
  v1::PolicySummaryResponse policy;
  policy.add_data_inventory("Which USB devices are plugged in.");
  dialog.showPolicy(policy);
  const QString text = dialog.body()->toPlainText();
  EXPECT_TRUE(text.contains(QStringLiteral("Which USB devices are plugged in.")));
  EXPECT_FALSE(text.contains(QStringLiteral("How long:")));
}

TEST_F(TrayTest, AgreementShowsTheAdultTextToAdults) {
  AupDialog dialog(Connect());
  v1::PolicySummaryResponse policy;
  policy.set_audience(v1::AUDIENCE_ADULT);
  policy.mutable_aup()->set_version(4);
  policy.mutable_aup()->set_title("Using your laptop");
  policy.mutable_aup()->set_text_under_18("Be kind online.");
  policy.mutable_aup()->set_text_adult(
      "Use the laptop for your course.\n\nKeep your password private.");
  dialog.showAgreement(policy, /*pending=*/true);
  dialog.show();
  const QString text = dialog.body()->toPlainText();
  EXPECT_TRUE(text.contains(QStringLiteral("Use the laptop for your course.")));
  EXPECT_TRUE(text.contains(QStringLiteral("Keep your password private.")));
  EXPECT_FALSE(text.contains(QStringLiteral("Be kind online.")));
  EXPECT_TRUE(dialog.agreeButton()->isVisible());
  QTest::mouseClick(dialog.agreeButton(), Qt::LeftButton);
  // The test agent is on version 3, so version 4 is refused and the learner is told why.
  ASSERT_TRUE(WaitFor([&] { return dialog.agreeButton()->isEnabled(); }));
  EXPECT_EQ(control_.aup_acceptances(), 0);
}

TEST(FormatNoticeTest, ProgramBlockedSaysWhoToAsk) {
  v1::Notice notice;
  notice.mutable_program_blocked()->set_program("steam");
  notice.mutable_program_blocked()->set_message("Games are not allowed on course laptops.");
  v1::Contacts contacts;
  contacts.set_it_helpdesk("IT help desk, room B12");
  const NoticeText text = FormatNotice(notice, contacts);
  EXPECT_EQ(text.title, QStringLiteral("steam can't run on this laptop"));
  EXPECT_EQ(text.body, QStringLiteral("Games are not allowed on course laptops.\n"
                                      "Ask IT help desk, room B12 if you need it."));
}

TEST(FormatNoticeTest, MonitorModeSaysWouldBeBlocked) {
  v1::Notice notice;
  notice.mutable_usb_blocked()->set_monitor_only(true);
  const NoticeText text = FormatNotice(notice, {});
  EXPECT_EQ(text.title, QStringLiteral("A USB device would be blocked"));
  EXPECT_TRUE(text.body.isEmpty());
}

TEST(FormatNoticeTest, EmptyNoticeShowsNothing) {
  EXPECT_TRUE(FormatNotice(v1::Notice(), {}).title.isEmpty());
}

}  // namespace
}  // namespace ward::tray
