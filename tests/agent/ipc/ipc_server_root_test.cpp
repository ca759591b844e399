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
    auto client = IpcClient::Connect({.socket_path = dir_.socket(), .request_timeout = 5s});
    if (!client) {
      ::_exit(11);
    }
    auto sent = (*client)->SubmitConcern(Caller{.uid = 0, .pid = 1, .username = "root"},
                                         Concern("uid=0 username=root (not really)"));
    ::_exit(sent ? 0 : 12);
  }
  int wstatus = 0;
  ASSERT_EQ(::waitpid(child, &wstatus, 0), child);
  ASSERT_TRUE(WIFEXITED(wstatus));
  ASSERT_EQ(WEXITSTATUS(wstatus), 0) << "child failed at step " << WEXITSTATUS(wstatus);
  const auto concerns = control_.concerns();
  ASSERT_EQ(concerns.size(), 1u);
  EXPECT_EQ(concerns[0].caller.uid, 1000u);
  EXPECT_EQ(concerns[0].caller.pid, child);
  EXPECT_NE(concerns[0].caller.username, "root");
}

}  // namespace
}  // namespace ward::agent::ipc
