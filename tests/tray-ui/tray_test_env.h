// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <QApplication>
#include <QElapsedTimer>
#include <QTest>

#include <chrono>
#include <functional>
#include <memory>

#include <gtest/gtest.h>

#include "../agent/ipc/posix/ipc_test_transport.h"
#include "../agent/ipc/test_agent_control.h"
#include "ward/agent/ipc/ipc_server.h"
#include "ward/tray/agent_connection.h"

namespace ward::tray::testing {

// One QApplication for the whole test binary, created on first use and left to the OS at exit
// (ctest sets QT_QPA_PLATFORM=offscreen; a hand-run binary falls back to it too).
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

// A real IpcServer on a temporary socket, backed by TestAgentControl, and the tray's
// AgentConnection to it.
class TrayTest : public ::testing::Test {
 protected:
  void SetUp() override {
    App();
    StartServer({});
  }

  void StartServer(agent::ipc::IpcServerOptions options) {
    options.endpoint = dir_.socket();
    auto server = agent::ipc::IpcServer::Create(options, control_, clock_);
    ASSERT_TRUE(server.has_value());
    server_ = std::move(*server);
    auto started = server_->Start();
    ASSERT_TRUE(started.has_value()) << started.error().ToString();
  }

  AgentConnection& Connect() {
    agent_ = std::make_unique<AgentConnection>(QString::fromStdString(dir_.socket().string()));
    EXPECT_TRUE(WaitFor([this] { return agent_->isConnected(); }));
    return *agent_;
  }

  void TearDown() override {
    agent_.reset();
    server_.reset();
  }

  agent::ipc::testing::TempSocketDir dir_;
  ManualClock clock_;
  agent::ipc::testing::TestAgentControl control_;
  std::unique_ptr<agent::ipc::IpcServer> server_;
  std::unique_ptr<AgentConnection> agent_;
};

}  // namespace ward::tray::testing
