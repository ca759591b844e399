// SPDX-License-Identifier: Apache-2.0
// The Unix-socket transport: where the socket lives and who may reach it.
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <fstream>

#include <gtest/gtest.h>

#include "ipc_server_fixture.h"
#include "ward/agent/ipc/ipc_server.h"

namespace ward::agent::ipc {
namespace {

using testing::IpcServerTest;

TEST_F(IpcServerTest, SocketIsReachableByEveryUser) {
  StartServer();
  struct stat st{};
  ASSERT_EQ(::stat(endpoint_.socket().c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0666u);
}

TEST_F(IpcServerTest, RefusesSocketDirectoryOthersCanWrite) {
  ::chmod(endpoint_.dir().c_str(), 0777);
  const auto started = TryStart();
  ASSERT_FALSE(started.has_value());
  EXPECT_EQ(started.error().code(), ErrorCode::kFailedPrecondition);
  EXPECT_NE(started.error().message().find("writable by other users"), std::string::npos);
}

TEST_F(IpcServerTest, RefusesToReplaceAFileThatIsNotASocket) {
  std::ofstream(endpoint_.socket()) << "not a socket";
  const auto started = TryStart();
  ASSERT_FALSE(started.has_value());
  EXPECT_NE(started.error().message().find("is not a socket"), std::string::npos);
}

TEST_F(IpcServerTest, ReplacesStaleSocketFromEarlierRun) {
  // A socket file left behind by a crashed agent: bound, then closed without unlink.
  const int stale = ::socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  const std::string path = endpoint_.socket().native();
  std::copy(path.begin(), path.end(), addr.sun_path);
  ASSERT_EQ(::bind(stale, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)), 0);
  ::close(stale);
  ASSERT_TRUE(std::filesystem::exists(endpoint_.socket()));

  StartServer();
  auto client = Client();
  ASSERT_NE(client, nullptr);
  EXPECT_TRUE(client->Status().has_value());
}

TEST_F(IpcServerTest, RemovesTheSocketOnStop) {
  StartServer();
  ASSERT_TRUE(std::filesystem::exists(endpoint_.socket()));
  server_->Stop();
  EXPECT_FALSE(std::filesystem::exists(endpoint_.socket()));
}

}  // namespace
}  // namespace ward::agent::ipc
