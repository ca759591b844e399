// SPDX-License-Identifier: Apache-2.0
// The server's contract, the same on every transport: built on Linux against the Unix socket and
// on Windows (under Wine) against the named pipe. Transport-only checks are in posix/ and
// windows/.
#include "ward/agent/ipc/ipc_server.h"

#include <atomic>
#include <mutex>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "ipc_server_fixture.h"

namespace ward::agent::ipc {
namespace {

using namespace std::chrono_literals;
using testing::CollectingSink;
using testing::IpcServerTest;
using testing::RawConnection;
using testing::RequestFrame;

TEST_F(IpcServerTest, AnswersStatusAndStampsCallerFromKernel) {
  StartServer();
  auto client = Client();
  ASSERT_NE(client, nullptr);
  // Whatever Caller the client passes is never sent.
  auto status =
      client->Status(Caller{.user_id = "claimed", .user_name = "claimed-name", .process_id = 1});
  ASSERT_TRUE(status.has_value()) << status.error().ToString();
  EXPECT_EQ(status->state(), v1::StatusResponse::STATE_PROTECTED);
  EXPECT_EQ(status->policy_name(), "Learner laptops");
  EXPECT_TRUE(status->aup_pending());
  const auto callers = control_.callers();
  ASSERT_EQ(callers.size(), 1u);
  EXPECT_EQ(callers[0].user_id, testing::OwnUserId());
  EXPECT_EQ(callers[0].process_id, testing::OwnProcessId());
  EXPECT_NE(callers[0].user_name, "claimed-name");
}

TEST_F(IpcServerTest, RateLimitsConcernsPerUserWithRetryAfter) {
  IpcServerOptions options;
  options.concern_limit = {.burst = 2, .refill_every = 120s};
  StartServer(options);
  auto client = Client();
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(client->SubmitConcern({}, Concern("one")).has_value());
  ASSERT_TRUE(client->SubmitConcern({}, Concern("two")).has_value());
  auto third = client->SubmitConcern({}, Concern("three"));
  ASSERT_FALSE(third.has_value());
  EXPECT_EQ(third.error().code(), ErrorCode::kResourceExhausted);
  EXPECT_EQ(client->last_retry_after_seconds(), 120u);
  EXPECT_NE(third.error().message().find("Please wait 2 minutes"), std::string::npos);
  EXPECT_NE(third.error().message().find("999"), std::string::npos);
  EXPECT_EQ(control_.concerns().size(), 2u);

  clock_.Advance(120s);
  EXPECT_TRUE(client->SubmitConcern({}, Concern("four")).has_value());
  EXPECT_EQ(control_.concerns().size(), 3u);
}

TEST_F(IpcServerTest, RateLimitsAupAcceptances) {
  IpcServerOptions options;
  options.aup_limit = {.burst = 1, .refill_every = 60s};
  StartServer(options);
  auto client = Client();
  ASSERT_NE(client, nullptr);
  v1::AcceptAupRequest accept;
  accept.set_aup_version(3);
  ASSERT_TRUE(client->AcceptAup({}, accept).has_value());
  auto again = client->AcceptAup({}, accept);
  ASSERT_FALSE(again.has_value());
  EXPECT_EQ(again.error().code(), ErrorCode::kResourceExhausted);
  EXPECT_EQ(client->last_retry_after_seconds(), 60u);
  EXPECT_EQ(control_.aup_acceptances(), 1);
}

TEST_F(IpcServerTest, PassesCoreErrorsThroughWithCodeAndMessage) {
  StartServer();
  auto client = Client();
  ASSERT_NE(client, nullptr);
  v1::AcceptAupRequest accept;
  accept.set_aup_version(2);  // the policy is on version 3
  auto accepted = client->AcceptAup({}, accept);
  ASSERT_FALSE(accepted.has_value());
  EXPECT_EQ(accepted.error().code(), ErrorCode::kFailedPrecondition);
  EXPECT_EQ(accepted.error().message(), "That agreement has changed. Please read the new one.");
}

TEST_F(IpcServerTest, RejectsOversizedFrameAndKeepsServingOthers) {
  StartServer();
  auto bystander = Client();
  ASSERT_NE(bystander, nullptr);
  RawConnection raw(endpoint_.endpoint());
  ASSERT_TRUE(raw.connected());
  ASSERT_TRUE(raw.Write(std::string("\x7f\xff\xff\xff", 4)));
  auto answer = raw.Read(5s);
  ASSERT_TRUE(answer.has_value());
  ASSERT_TRUE(answer->has_response());
  EXPECT_EQ(answer->response().error().code(), "INVALID_ARGUMENT");
  EXPECT_EQ(answer->response().error().message(),
            "frame of 2147483647 bytes is over the limit of 8388608");
  EXPECT_TRUE(raw.WaitForEof(5s));
  EXPECT_TRUE(bystander->Status().has_value());
}

TEST_F(IpcServerTest, RejectsMalformedRequestAndKeepsTheConnection) {
  StartServer();
  RawConnection raw(endpoint_.endpoint());
  ASSERT_TRUE(raw.connected());
  const std::string garbage = "\xff\xff\xff\xff\x0f";
  std::string frame = {0, 0, 0, static_cast<char>(garbage.size())};
  ASSERT_TRUE(raw.Write(frame + garbage));
  auto answer = raw.Read(5s);
  ASSERT_TRUE(answer.has_value());
  EXPECT_EQ(answer->response().error().code(), "INVALID_ARGUMENT");
  EXPECT_EQ(answer->response().error().message(), "the request is not a valid IpcRequest message");

  v1::IpcRequest request;
  request.set_request_id(9);
  request.mutable_status();
  ASSERT_TRUE(raw.Write(RequestFrame(request)));
  auto status = raw.Read(5s);
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(status->response().request_id(), 9u);
  EXPECT_TRUE(status->response().has_status());
  EXPECT_FALSE(status->response().has_error());
}

TEST_F(IpcServerTest, RejectsOversizedScreenshot) {
  StartServer();
  auto client = Client();
  ASSERT_NE(client, nullptr);
  auto concern = Concern("look");
  concern.set_screenshot_png(std::string(4 * 1024 * 1024 + 1, 'p'));
  auto sent = client->SubmitConcern({}, concern);
  ASSERT_FALSE(sent.has_value());
  EXPECT_EQ(sent.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_TRUE(control_.concerns().empty());
}

TEST_F(IpcServerTest, ClosesClientThatSendsHalfAFrame) {
  IpcServerOptions options;
  options.slow_client_timeout = 200ms;
  StartServer(options);
  RawConnection raw(endpoint_.endpoint());
  ASSERT_TRUE(raw.connected());
  ASSERT_TRUE(raw.Write(std::string("\x00\x00\x01\x00partial", 11)));
  auto answer = raw.Read(10s);
  ASSERT_TRUE(answer.has_value());
  EXPECT_EQ(answer->response().error().code(), "DEADLINE_EXCEEDED");
  EXPECT_TRUE(raw.WaitForEof(10s));
  auto client = Client();
  ASSERT_NE(client, nullptr);
  EXPECT_TRUE(client->Status().has_value());
}

TEST_F(IpcServerTest, ClosesIdleConnectionButNotSubscriber) {
  IpcServerOptions options;
  options.idle_timeout = 200ms;
  StartServer(options);
  CollectingSink sink;
  auto subscriber = Client(&sink);
  ASSERT_NE(subscriber, nullptr);
  ASSERT_TRUE(subscriber->Subscribe().has_value());
  RawConnection idle(endpoint_.endpoint());
  ASSERT_TRUE(idle.connected());
  EXPECT_TRUE(idle.WaitForEof(10s));
  // The subscriber is still there and still gets notices.
  v1::Notice notice;
  notice.mutable_policy_changed()->set_policy_version(8);
  server_->Notify(notice);
  for (int i = 0; i < 100 && sink.notices().empty(); ++i) {
    ASSERT_TRUE(subscriber->PumpNotices(100ms).has_value());
  }
  ASSERT_EQ(sink.notices().size(), 1u);
}

TEST_F(IpcServerTest, ServesManyClientsAtOnce) {
  StartServer();
  constexpr int kThreads = 12;
  constexpr int kRequests = 25;
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  // All clients stay connected at the same time while they send.
  std::vector<std::unique_ptr<IpcClient>> clients;
  for (int t = 0; t < kThreads; ++t) {
    clients.push_back(Client());
    ASSERT_NE(clients.back(), nullptr);
  }
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kRequests; ++i) {
        if (clients[static_cast<std::size_t>(t)]->Status().has_value()) {
          ++ok;
        }
      }
    });
  }
  for (auto& thread : threads) {
    thread.join();
  }
  EXPECT_EQ(ok.load(), kThreads * kRequests);
  EXPECT_EQ(server_->ConnectionCountForTesting(), static_cast<std::size_t>(kThreads));
}

TEST_F(IpcServerTest, TellsClientsOverThePerUserLimitItIsBusy) {
  IpcServerOptions options;
  options.max_clients_per_user = 2;
  StartServer(options);
  auto a = Client();
  auto b = Client();
  ASSERT_TRUE(a->Status().has_value());
  ASSERT_TRUE(b->Status().has_value());
  RawConnection third(endpoint_.endpoint());
  auto answer = third.Read(5s);
  ASSERT_TRUE(answer.has_value());
  EXPECT_EQ(answer->response().error().code(), "RESOURCE_EXHAUSTED");
  EXPECT_TRUE(third.WaitForEof(5s));
  EXPECT_TRUE(a->Status().has_value());
}

TEST_F(IpcServerTest, DeliversNoticesToSubscribersOnly) {
  StartServer();
  CollectingSink subscribed_sink;
  CollectingSink other_sink;
  auto subscriber = Client(&subscribed_sink);
  auto other = Client(&other_sink);
  ASSERT_NE(subscriber, nullptr);
  ASSERT_NE(other, nullptr);
  ASSERT_TRUE(subscriber->Subscribe().has_value());
  ASSERT_TRUE(other->Status().has_value());

  v1::Notice usb;
  usb.mutable_usb_blocked()->set_device_name("SanDisk Cruzer");
  usb.mutable_usb_blocked()->set_message("USB memory sticks are blocked on this laptop.");
  v1::Notice received;
  received.mutable_concern_received()->set_reference("K7QF-2M9X");
  server_->Notify(usb);
  server_->Notify(received);

  for (int i = 0; i < 100 && subscribed_sink.notices().size() < 2; ++i) {
    ASSERT_TRUE(subscriber->PumpNotices(100ms).has_value());
  }
  const auto notices = subscribed_sink.notices();
  ASSERT_EQ(notices.size(), 2u);
  EXPECT_EQ(notices[0].usb_blocked().device_name(), "SanDisk Cruzer");
  EXPECT_EQ(notices[1].concern_received().reference(), "K7QF-2M9X");
  // A request round trip on the other connection orders after the publish; nothing came.
  ASSERT_TRUE(other->Status().has_value());
  ASSERT_TRUE(other->PumpNotices(0ms).has_value());
  EXPECT_TRUE(other_sink.notices().empty());
}

TEST_F(IpcServerTest, NotifyUserReachesOnlyThatUser) {
  StartServer();
  CollectingSink sink;
  auto subscriber = Client(&sink);
  ASSERT_NE(subscriber, nullptr);
  ASSERT_TRUE(subscriber->Subscribe().has_value());
  v1::Notice elsewhere;
  elsewhere.mutable_concern_received()->set_reference("NOT-MINE");
  server_->NotifyUser(testing::OtherUserId(), elsewhere);
  v1::Notice mine;
  mine.mutable_concern_received()->set_reference("K7QF-2M9X");
  server_->NotifyUser(testing::OwnUserId(), mine);
  for (int i = 0; i < 100 && sink.notices().empty(); ++i) {
    ASSERT_TRUE(subscriber->PumpNotices(100ms).has_value());
  }
  // Notices keep their order, so the first one delivered would have been NOT-MINE.
  const auto notices = sink.notices();
  ASSERT_EQ(notices.size(), 1u);
  EXPECT_EQ(notices[0].concern_received().reference(), "K7QF-2M9X");
}

TEST_F(IpcServerTest, ClientSeesAgentGoAway) {
  StartServer();
  auto client = Client();
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(client->Status().has_value());
  server_->Stop();
  auto status = client->Status();
  ASSERT_FALSE(status.has_value());
  EXPECT_EQ(status.error().code(), ErrorCode::kUnavailable);
  EXPECT_FALSE(client->connected());
}

TEST_F(IpcServerTest, StopsPromptlyWithManyClientsConnected) {
  StartServer();
  CollectingSink sink;
  std::vector<std::unique_ptr<IpcClient>> clients;
  for (int i = 0; i < 8; ++i) {
    clients.push_back(Client(&sink));
    ASSERT_NE(clients.back(), nullptr);
    ASSERT_TRUE(i % 2 == 0 ? clients.back()->Subscribe().has_value()
                           : clients.back()->Status().has_value());
  }
  // One more in the middle of a frame, and one that never sent anything.
  RawConnection partial(endpoint_.endpoint());
  ASSERT_TRUE(partial.connected());
  ASSERT_TRUE(partial.Write(std::string("\x00\x00\x01\x00half", 8)));
  RawConnection silent(endpoint_.endpoint());
  ASSERT_TRUE(silent.connected());
  for (int i = 0; i < 100 && server_->ConnectionCountForTesting() < 10; ++i) {
    std::this_thread::sleep_for(10ms);
  }
  EXPECT_EQ(server_->ConnectionCountForTesting(), 10u);

  const auto before = std::chrono::steady_clock::now();
  server_->Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - before, 3s);
  EXPECT_EQ(server_->ConnectionCountForTesting(), 0u);
  for (auto& client : clients) {
    auto status = client->Status();
    ASSERT_FALSE(status.has_value());
    EXPECT_EQ(status.error().code(), ErrorCode::kUnavailable);
  }
  EXPECT_TRUE(partial.WaitForEof(5s));
  EXPECT_TRUE(silent.WaitForEof(5s));
  // And it can serve again on the same endpoint.
  ASSERT_TRUE(server_->Start().has_value());
  auto again = Client();
  ASSERT_NE(again, nullptr);
  EXPECT_TRUE(again->Status().has_value());
}

}  // namespace
}  // namespace ward::agent::ipc
