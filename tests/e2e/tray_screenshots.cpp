// SPDX-License-Identifier: Apache-2.0
// Renders the tray's dialogs to PNG files (QWidget::grab on Qt's offscreen platform),
// against a real IpcServer backed by the test AgentControl. Used by tray_screenshots.sh.
//   ward_tray_screenshots <output-dir>
//   ward_tray_screenshots.exe -platform windows <output-dir>   (under Wine: the Windows views)
//   ward_tray_screenshots --real-tray   (under X with a tray host: opens the menu on the real
//                                        tray icon, prints READY, holds it for a capture)
#include <QApplication>
#include <QCheckBox>
#include <QComboBox>
#include <QDir>
#include <QElapsedTimer>
#include <QLabel>
#include <QMenu>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSystemTrayIcon>
#include <QTest>
#include <QTextBrowser>

#include <cstdio>
#include <functional>
#include <string_view>

#include "ipc_test_transport.h"  // tests/agent/ipc/<os>/: a Unix socket or a named pipe
#include "test_agent_control.h"
#include "ward/agent/ipc/ipc_server.h"
#include "ward/tray/agent_connection.h"
#include "ward/tray/concern_dialog.h"
#include "ward/tray/info_dialogs.h"
#include "ward/tray/tray_controller.h"

namespace {

bool WaitFor(const std::function<bool()>& done) {
  QElapsedTimer timer;
  timer.start();
  while (!done() && timer.elapsed() < 10'000) {
    QTest::qWait(10);
  }
  return done();
}

bool Save(QWidget* widget, const QDir& dir, const QString& name) {
  QTest::qWait(50);
  const QString path = dir.filePath(name);
  if (!widget->grab().save(path)) {
    std::fprintf(stderr, "could not write %s\n", qPrintable(path));
    return false;
  }
  std::printf("wrote %s\n", qPrintable(path));
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM")) {
    qputenv("QT_QPA_PLATFORM", "offscreen");
  }
  QApplication app(argc, argv);
  if (argc != 2) {
    std::fprintf(stderr, "usage: ward_tray_screenshots <output-dir> | --real-tray\n");
    return 2;
  }
  const bool real_tray = std::string_view(argv[1]) == "--real-tray";
  QDir out(QString::fromLocal8Bit(argv[1]));
  if (!real_tray && !out.mkpath(QStringLiteral("."))) {
    std::fprintf(stderr, "cannot create %s\n", argv[1]);
    return 1;
  }
  ward::agent::ipc::testing::TestEndpoint dir;
  ward::agent::ipc::testing::TestAgentControl control;
  auto server = ward::agent::ipc::IpcServer::Create({.endpoint = dir.endpoint()}, control);
  if (!server || !(*server)->Start()) {
    std::fprintf(stderr, "could not start the IPC server\n");
    return 1;
  }
  if (real_tray) {
    // Agreement already accepted: the icon shows the everyday "protected" state.
    ward::v1::AcceptAupRequest accept;
    accept.set_aup_version(3);
    (void)control.AcceptAup({}, accept);
  }
  ward::tray::TrayController tray(QString::fromStdWString(dir.endpoint().wstring()));
  if (!WaitFor([&] { return tray.agent().isConnected(); })) {
    std::fprintf(stderr, "the tray did not connect\n");
    return 1;
  }
  if (real_tray) {
    if (!tray.usesTray()) {
      std::fprintf(stderr, "no system tray on this display\n");
      return 1;
    }
    QTest::qWait(1500);  // the tray host embeds the icon
    const QRect icon = tray.trayIcon()->geometry();
    tray.menu()->popup(icon.bottomLeft() + QPoint(-160, 4));
    QTest::qWait(500);
    std::printf("READY\n");
    std::fflush(stdout);
    QTest::qWait(4000);
    return 0;
  }
  bool ok = true;

  ward::tray::PolicyDialog policy(tray.agent(), ward::tray::PolicyDialog::Page::kPolicy);
  policy.resize(460, 440);
  policy.show();
  ok = WaitFor([&] { return policy.body()->toPlainText().contains(QStringLiteral("USB")); }) &&
       Save(&policy, out, QStringLiteral("policy-view.png")) && ok;

  ward::tray::ConcernDialog concern(tray.agent());
  concern.show();
  concern.categoryBox()->setCurrentIndex(1);
  concern.textEdit()->setPlainText(QStringLiteral(
      "People in my class group chat keep posting mean things about me and sharing a photo."));
  concern.anonymousBox()->setChecked(true);
  ok = Save(&concern, out, QStringLiteral("concern-dialog.png")) && ok;
  concern.dangerBox()->setChecked(true);
  ok = Save(&concern, out, QStringLiteral("concern-danger.png")) && ok;
  QTest::mouseClick(concern.sendButton(), Qt::LeftButton);
  ok = WaitFor([&] { return !concern.reference().isEmpty(); }) && ok;
  ward::v1::Notice received;
  received.mutable_concern_received()->set_reference(concern.reference().toStdString());
  (*server)->Notify(received);
  ok = WaitFor([&] {
         return concern.receivedLabel()->text().startsWith(QStringLiteral("Received"));
       }) &&
       Save(&concern, out, QStringLiteral("concern-sent.png")) && ok;

  if (tray.usesTray()) {
    // A platform with a tray (Windows under Wine): the menu as it opens from the icon.
    tray.menu()->popup(QPoint(40, 40));
    ok = WaitFor([&] { return tray.menu()->isVisible(); }) &&
         Save(tray.menu(), out, QStringLiteral("tray-menu.png")) && ok;
    tray.menu()->hide();
  }
  if (QWidget* window = tray.fallbackWindow(); window != nullptr) {
    ward::v1::Notice usb;
    usb.mutable_usb_blocked()->set_device_name("SanDisk Cruzer");
    usb.mutable_usb_blocked()->set_message(
        "Memory sticks are blocked. Save your work to OneDrive.");
    (*server)->Notify(usb);
    ok = WaitFor([&] { return tray.lastNoticeLabel()->isVisible(); }) &&
         Save(window, out, QStringLiteral("fallback-window.png")) && ok;
  }
  (*server)->Stop();
  return ok ? 0 : 1;
}
