// SPDX-License-Identifier: Apache-2.0
// Needs root: a forked child drops to uid 1000 and the server must see uid 1000.
#include <grp.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "ipc_server_fixture.h"
#include "ward/testing/require.h"

namespace ward::agent::ipc {
namespace {

using namespace std::chrono_literals;
using testing::IpcServerTest;

TEST_F(IpcServerTest, RecordsTheKernelUidOfAChildThatDroppedToUid1000) {
  WARD_REQUIRE_ROOT();
  StartServer();
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // Drop to an ordinary learner's uid before connecting. The request claims to be root.
    if (::setgroups(0, nullptr) != 0 || ::setgid(1000) != 0 || ::setuid(1000) != 0) {
      ::_exit(10);
    }
    auto client = IpcClient::Connect({.endpoint = endpoint_.endpoint(), .request_timeout = 5s});
    if (!client) {
      ::_exit(11);
    }
    auto sent =
        (*client)->SubmitConcern(Caller{.user_id = "0", .user_name = "root", .process_id = 1},
                                 Concern("uid=0 username=root (not really)"));
    ::_exit(sent ? 0 : 12);
  }
  int wstatus = 0;
  ASSERT_EQ(::waitpid(child, &wstatus, 0), child);
  ASSERT_TRUE(WIFEXITED(wstatus));
  ASSERT_EQ(WEXITSTATUS(wstatus), 0) << "child failed at step " << WEXITSTATUS(wstatus);
  const auto concerns = control_.concerns();
  ASSERT_EQ(concerns.size(), 1u);
  EXPECT_EQ(concerns[0].caller.user_id, "1000");
  EXPECT_EQ(concerns[0].caller.process_id, child);
  EXPECT_NE(concerns[0].caller.user_name, "root");
}

TEST_F(IpcServerTest, NoticeForOneUserNeverReachesAnother) {
  WARD_REQUIRE_ROOT();
  StartServer();
  // A learner (uid 1000) subscribes from a child process and reports what arrived.
  int pipe_fds[2];
  ASSERT_EQ(::pipe(pipe_fds), 0);
  int ready_fds[2];
  ASSERT_EQ(::pipe(ready_fds), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::close(pipe_fds[0]);
    ::close(ready_fds[0]);
    if (::setgroups(0, nullptr) != 0 || ::setgid(1000) != 0 || ::setuid(1000) != 0) {
      ::_exit(10);
    }
    testing::CollectingSink sink;
    auto client =
        IpcClient::Connect({.endpoint = endpoint_.endpoint(), .request_timeout = 5s}, &sink);
    if (!client || !(*client)->Subscribe()) {
      ::_exit(11);
    }
    const char go = 'g';
    if (::write(ready_fds[1], &go, 1) != 1) {
      ::_exit(12);
    }
    for (int i = 0; i < 50 && sink.notices().empty(); ++i) {
      (void)(*client)->PumpNotices(100ms);
    }
    std::string got;
    for (const auto& n : sink.notices()) {
      got += n.concern_received().reference() + ";";
    }
    if (::write(pipe_fds[1], got.data(), got.size()) < 0) {
      ::_exit(13);
    }
    ::_exit(0);
  }
  ::close(pipe_fds[1]);
  ::close(ready_fds[1]);
  char go = 0;
  ASSERT_EQ(::read(ready_fds[0], &go, 1), 1);
  v1::Notice roots;
  roots.mutable_concern_received()->set_reference("ROOT-ONLY");
  server_->NotifyUser("0", roots);
  v1::Notice learners;
  learners.mutable_concern_received()->set_reference("LEARNER");
  server_->NotifyUser("1000", learners);
  std::string got;
  char buf[256];
  ssize_t n;
  while ((n = ::read(pipe_fds[0], buf, sizeof(buf))) > 0) {
    got.append(buf, static_cast<std::size_t>(n));
  }
  int wstatus = 0;
  ASSERT_EQ(::waitpid(child, &wstatus, 0), child);
  ASSERT_TRUE(WIFEXITED(wstatus));
  ASSERT_EQ(WEXITSTATUS(wstatus), 0);
  EXPECT_EQ(got, "LEARNER;");
}

}  // namespace
}  // namespace ward::agent::ipc
