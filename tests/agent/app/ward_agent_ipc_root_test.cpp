// SPDX-License-Identifier: Apache-2.0
// Needs root: the real ward-agent process serves its socket, and `ward-agent concern` runs as
// another user (nobody, uid 65534: no user is created) whose name must be on the stored concern.
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <regex>
#include <thread>

#include <gtest/gtest.h>

#include "signed_policy_util.h"
#include "ward/agent/store/event_store.h"
#include "ward/platform/key_provider.h"
#include "ward/testing/paths.h"
#include "ward/testing/require.h"

namespace ward::app {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

const std::string kAgent = ward::testing::BuiltFile("agent/app/ward-agent").string();
constexpr uid_t kNobody = 65534;

int WaitExit(pid_t pid) {
  int status = 0;
  if (::waitpid(pid, &status, 0) != pid) {
    return -1;
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

TEST(WardAgentIpcRootTest, ConcernFromAnotherUserIsStoredUnderThatUsersName) {
  WARD_REQUIRE_ROOT();
  const passwd* nobody = ::getpwuid(kNobody);
  ASSERT_NE(nobody, nullptr) << "this machine has no uid 65534";
  const std::string nobody_name = nobody->pw_name;

  testing::SignedPolicyDir dir;
  dir.WriteBundle(1);
  const fs::path conf = dir.dir() / "agent.conf";
  const fs::path socket = dir.dir() / "run/agent.sock";
  testing::WriteFile(
      conf, "policy_bundle = " + dir.bundle().string() + "\npolicy_key = " + dir.pubkey().string() +
                "\nstate_dir = " + (dir.dir() / "state").string() +
                "\nstatus_file = " + (dir.dir() / "agent.status").string() +
                "\nipc_socket = " + socket.string() + "\nusb = off\nexec = off\nsettings = off\n");
  ::chmod(conf.c_str(), 0644);

  const pid_t agent = ::fork();
  ASSERT_GE(agent, 0);
  if (agent == 0) {
    const int null = ::open("/dev/null", O_WRONLY);
    ::dup2(null, 2);
    ::execl(kAgent.c_str(), kAgent.c_str(), "--config", conf.c_str(), nullptr);
    ::_exit(127);
  }
  for (int i = 0; i < 500 && !fs::exists(socket); ++i) {
    std::this_thread::sleep_for(10ms);
  }
  ASSERT_TRUE(fs::exists(socket));

  // The CLI as nobody; it claims nothing, the agent asks the kernel.
  int out[2];
  ASSERT_EQ(::pipe(out), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::dup2(out[1], 1);
    ::close(out[0]);
    if (::setgroups(0, nullptr) != 0 || ::setgid(kNobody) != 0 || ::setuid(kNobody) != 0) {
      ::_exit(10);
    }
    ::execl(kAgent.c_str(), kAgent.c_str(), "concern", "--config", conf.c_str(), "--category",
            "uncomfortable-contact", "--text", "Someone I don't know keeps messaging me.", nullptr);
    ::_exit(127);
  }
  ::close(out[1]);
  std::string printed;
  char buf[512];
  for (ssize_t n; (n = ::read(out[0], buf, sizeof(buf))) > 0;) {
    printed.append(buf, static_cast<std::size_t>(n));
  }
  ::close(out[0]);
  EXPECT_EQ(WaitExit(child), 0) << printed;
  std::smatch match;
  ASSERT_TRUE(std::regex_search(printed, match, std::regex("Reference: ([0-9A-Z]{4}-[0-9A-Z]{4})")))
      << printed;
  const std::string reference = match[1];

  ::kill(agent, SIGTERM);
  ASSERT_EQ(WaitExit(agent), 0);

  // Read back from the encrypted store the agent left behind.
  platform::KeyProviderOptions key_options;
  key_options.state_dir = dir.dir() / "state";
  auto keys = platform::CreateKeyProvider(key_options);
  agent::store::StoreOptions options;
  options.path = dir.dir() / "state/events.db";
  auto store = agent::store::EventStore::Open(options, *keys);
  ASSERT_TRUE(store.has_value()) << store.error().ToString();
  auto lease = (*store)->Lease(1000, 64u << 20);
  ASSERT_TRUE(lease.has_value());
  int concerns = 0;
  for (const auto& e : lease->events) {
    if (e.has_concern()) {
      ++concerns;
      EXPECT_EQ(e.priority(), v1::PRIORITY_CRITICAL);
      EXPECT_EQ(e.user(), nobody_name);
      EXPECT_EQ(e.concern().reference(), reference);
      EXPECT_EQ(e.concern().category(), v1::CONCERN_CATEGORY_UNCOMFORTABLE_CONTACT);
    }
  }
  EXPECT_EQ(concerns, 1);
}

}  // namespace
}  // namespace ward::app
