// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "ipc_test_transport.h"
#include "test_agent_control.h"
#include "ward/agent/ipc/ipc_client.h"
#include "ward/agent/ipc/ipc_server.h"

namespace ward::agent::ipc::testing {

using namespace std::chrono_literals;

inline std::string RequestFrame(const v1::IpcRequest& request) {
  auto frame = EncodeFrame(request);
  return frame ? *frame : std::string();
}

class CollectingSink final : public NoticeSink {
 public:
  void Notify(v1::Notice notice) override {
    std::scoped_lock lock(mu_);
    notices_.push_back(notice);
  }
  std::vector<v1::Notice> notices() const {
    std::scoped_lock lock(mu_);
    return notices_;
  }

 private:
  mutable std::mutex mu_;
  std::vector<v1::Notice> notices_;
};

class IpcServerTest : public ::testing::Test {
 protected:
  // Creates and starts the server on this test's socket; the Start() result is returned.
  ward::Status TryStart(IpcServerOptions options = {}) {
    options.endpoint = endpoint_.endpoint();
    WARD_ASSIGN_OR_RETURN(server_, IpcServer::Create(options, control_, clock_));
    return server_->Start();
  }

  void StartServer(IpcServerOptions options = {}) {
    auto started = TryStart(std::move(options));
    ASSERT_TRUE(started.has_value()) << started.error().ToString();
  }

  std::unique_ptr<IpcClient> Client(NoticeSink* sink = nullptr) {
    auto client =
        IpcClient::Connect({.endpoint = endpoint_.endpoint(), .request_timeout = 5s}, sink);
    EXPECT_TRUE(client.has_value()) << client.error().ToString();
    return client ? std::move(*client) : nullptr;
  }

  v1::SubmitConcernRequest Concern(std::string text) {
    v1::SubmitConcernRequest concern;
    concern.set_category(v1::CONCERN_CATEGORY_BULLYING);
    concern.set_text(std::move(text));
    return concern;
  }

  TestEndpoint endpoint_;
  ManualClock clock_;
  TestAgentControl control_;
  std::unique_ptr<IpcServer> server_;
};

}  // namespace ward::agent::ipc::testing
