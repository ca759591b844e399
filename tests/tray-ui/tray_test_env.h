// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <QApplication>
#include <QElapsedTimer>
#include <QTest>

#include <chrono>
#include <functional>
#include <memory>

#include <gtest/gtest.h>

#include "ipc_test_transport.h"  // tests/agent/ipc/<os>/: a Unix socket or a named pipe
#include "test_agent_control.h"
#include "ward/agent/ipc/ipc_server.h"
#include "ward/tray/agent_connection.h"
#include "ward/tray/tray_controller.h"

namespace ward::tray::testing {

// One QApplication for the whole test binary, created on first use and left to the OS at exit
// (ctest sets QT_QPA_PLATFORM=offscreen on Linux; under Wine, which drops QT_* variables, and
// in a hand-run binary it falls back to it here).
inline QApplication& App() {
  if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM")) {
    qputenv("QT_QPA_PLATFORM", "offscreen");
  }
  static int argc = 1;
  static char name[] = "ward_tray_ui_tests";
  static char* argv[] = {name, nullptr};
  // Never destroyed: tearing Qt down during static destruction crashes at exit.
  static QApplication* app = new QApplication(argc, argv);
  return *app;
}

// Runs the event loop until `done` holds or ten seconds pass; returns `done()`.
inline bool WaitFor(const std::function<bool()>& done, int timeout_ms = 10'000) {
  QElapsedTimer timer;
  timer.start();
  while (!done() && timer.elapsed() < timeout_ms) {
    QTest::qWait(10);
  }
  return done();
}

// A real IpcServer on a temporary endpoint (a socket, or a named pipe on Windows), backed by
// TestAgentControl, and the tray's AgentConnection to it.
class TrayTest : public ::testing::Test {
 protected:
  void SetUp() override {
    App();
    StartServer({});
  }

  void StartServer(agent::ipc::IpcServerOptions options) {
    options.endpoint = dir_.endpoint();
    auto server = agent::ipc::IpcServer::Create(options, control_, clock_);
    ASSERT_TRUE(server.has_value());
    server_ = std::move(*server);
    auto started = server_->Start();
    ASSERT_TRUE(started.has_value()) << started.error().ToString();
  }

  AgentConnection& Connect() {
    agent_ = std::make_unique<AgentConnection>(Endpoint());
    EXPECT_TRUE(WaitFor([this] { return agent_->isConnected(); }));
    return *agent_;
  }

  // The endpoint as the tray takes it (--socket).
  QString Endpoint() const { return QString::fromStdWString(dir_.endpoint().wstring()); }

  void TearDown() override {
    agent_.reset();
    server_.reset();
  }

  agent::ipc::testing::TestEndpoint dir_;
  ManualClock clock_;
  agent::ipc::testing::TestAgentControl control_;
  std::unique_ptr<agent::ipc::IpcServer> server_;
  std::unique_ptr<AgentConnection> agent_;
};

// TrayTest with the whole tray (TrayController) connected to that server.
class TrayControllerTest : public TrayTest {
 protected:
  void SetUp() override {
    TrayTest::SetUp();
    controller_ = std::make_unique<TrayController>(Endpoint());
    ASSERT_TRUE(WaitFor([&] { return controller_->agent().isConnected(); }));
  }
  void TearDown() override {
    controller_.reset();
    TrayTest::TearDown();
  }
  std::unique_ptr<TrayController> controller_;
};

}  // namespace ward::tray::testing
