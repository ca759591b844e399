// SPDX-License-Identifier: Apache-2.0
// Qt 6 for Windows from the cross-built prefix works for the tray: a QApplication on the
// `windows` platform plugin, a system tray, and a QLocalServer/QLocalSocket round trip over a
// named pipe (how the tray will talk to the agent). Run under Wine + Xvfb in CI.
#include <QApplication>
#include <QCoreApplication>
#include <QIcon>
#include <QLocalServer>
#include <QLocalSocket>
#include <QPixmap>
#include <QString>
#include <QSystemTrayIcon>
#include <QWidget>

#include <memory>

#include <gtest/gtest.h>

namespace ward {
namespace {

class QtProofTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    static int argc = 1;
    static char name[] = "ward_qt_proof_tests";
    static char* argv[] = {name, nullptr};
    app_ = new QApplication(argc, argv);
  }
  static void TearDownTestSuite() {
    delete app_;
    app_ = nullptr;
  }
  static QApplication* app_;
};

QApplication* QtProofTest::app_ = nullptr;

TEST_F(QtProofTest, RunsOnTheWindowsPlatformPlugin) {
  EXPECT_EQ(QGuiApplication::platformName(), QStringLiteral("windows"));
  QWidget window;
  window.resize(200, 100);
  window.show();
  QCoreApplication::processEvents();
  EXPECT_TRUE(window.isVisible());
  EXPECT_NE(window.winId(), WId{0});
}

TEST_F(QtProofTest, HasASystemTray) {
  ASSERT_TRUE(QSystemTrayIcon::isSystemTrayAvailable());
  QPixmap pixmap(16, 16);
  pixmap.fill(Qt::darkGreen);
  const QIcon image(pixmap);
  QSystemTrayIcon icon(image);
  icon.setToolTip(QStringLiteral("Ward"));
  icon.show();
  QCoreApplication::processEvents();
  EXPECT_TRUE(icon.isVisible());
  icon.hide();
}

TEST_F(QtProofTest, LocalSocketRoundTripOverANamedPipe) {
  QLocalServer server;
  const QString name = QStringLiteral("ward-qt-proof-%1").arg(QCoreApplication::applicationPid());
  ASSERT_TRUE(server.listen(name)) << server.errorString().toStdString();
  EXPECT_TRUE(server.fullServerName().startsWith(QStringLiteral("\\\\.\\pipe\\")))
      << server.fullServerName().toStdString();

  QLocalSocket client;
  client.connectToServer(name);
  ASSERT_TRUE(client.waitForConnected(5000)) << client.errorString().toStdString();
  ASSERT_TRUE(server.waitForNewConnection(5000));
  std::unique_ptr<QLocalSocket> accepted(server.nextPendingConnection());
  ASSERT_NE(accepted, nullptr);

  client.write("ping\n");
  ASSERT_TRUE(client.waitForBytesWritten(5000));
  while (!accepted->canReadLine()) {
    ASSERT_TRUE(accepted->waitForReadyRead(5000)) << accepted->errorString().toStdString();
  }
  EXPECT_EQ(accepted->readLine(), QByteArray("ping\n"));

  accepted->write("pong\n");
  ASSERT_TRUE(accepted->waitForBytesWritten(5000));
  while (!client.canReadLine()) {
    ASSERT_TRUE(client.waitForReadyRead(5000)) << client.errorString().toStdString();
  }
  EXPECT_EQ(client.readLine(), QByteArray("pong\n"));
  client.disconnectFromServer();
}

}  // namespace
}  // namespace ward
