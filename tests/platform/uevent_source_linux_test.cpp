// SPDX-License-Identifier: Apache-2.0
// Real NETLINK_KOBJECT_UEVENT sockets, each test in a forked child inside its own network
// namespace, so nothing reaches or comes from the host's devices.
#include "ward/platform/uevent_source.h"

#include <linux/netlink.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <functional>
#include <string>

#include <gtest/gtest.h>

#include "ward/testing/require.h"

namespace ward::platform {
namespace {

// Runs `body` in a child in a fresh network namespace; its return value is the exit code.
int InNetworkNamespace(const std::function<int()>& body) {
  const pid_t child = ::fork();
  if (child == 0) {
    if (::unshare(CLONE_NEWNET) != 0) {
      ::_exit(100);
    }
    ::_exit(body());
  }
  int status = 0;
  ::waitpid(child, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 200;
}

// A userspace process forging a kernel-looking USB "add" on the kernel's multicast group.
bool SendForged(int sock) {
  static const char kMessage[] =
      "add@/devices/usb1/1-1\0ACTION=add\0DEVPATH=/devices/usb1/1-1\0SUBSYSTEM=usb\0"
      "DEVTYPE=usb_device\0SEQNUM=1";
  sockaddr_nl to{};
  to.nl_family = AF_NETLINK;
  to.nl_groups = 1;
  return ::sendto(sock, kMessage, sizeof(kMessage), 0, reinterpret_cast<const sockaddr*>(&to),
                  sizeof(to)) == static_cast<ssize_t>(sizeof(kMessage));
}

TEST(UeventSourceLinuxTest, DropsMessagesNotSentByTheKernel) {
  WARD_REQUIRE_ROOT();
  const int code = InNetworkNamespace([] {
    auto source = CreateUeventSource({});
    if (!source.has_value()) {
      return 1;
    }
    const int sender = ::socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_KOBJECT_UEVENT);
    if (sender < 0 || !SendForged(sender)) {
      return 2;
    }
    auto next = (*source)->Next(std::chrono::milliseconds(300));
    if (!next.has_value() || next->has_value()) {
      return 3;  // a forged event got through
    }
    return (*source)->Stats().rejected_sender == 1 ? 0 : 4;
  });
  EXPECT_EQ(code, 0);
}

TEST(UeventSourceLinuxTest, AcceptsMessagesFromTheKernel) {
  WARD_REQUIRE_ROOT();
  const int code = InNetworkNamespace([] {
    auto source = CreateUeventSource({});
    if (!source.has_value()) {
      return 1;
    }
    // Creating a veth pair makes the kernel send "add" uevents into this namespace.
    if (std::system("ip link add ward-t0 type veth peer name ward-t1") != 0) {
      return 2;
    }
    for (int i = 0; i < 20 && (*source)->Stats().kernel_messages == 0; ++i) {
      auto next = (*source)->Next(std::chrono::milliseconds(100));
      if (!next.has_value() || next->has_value()) {
        return 3;  // an error, or a net device reported as USB
      }
    }
    const auto stats = (*source)->Stats();
    return stats.kernel_messages > 0 && stats.rejected_sender == 0 ? 0 : 4;
  });
  EXPECT_EQ(code, 0);
}

TEST(UeventSourceLinuxTest, OverflowAsksForRescan) {
  WARD_REQUIRE_ROOT();
  const int code = InNetworkNamespace([] {
    auto source = CreateUeventSource({.receive_buffer_bytes = 4096});
    if (!source.has_value()) {
      return 1;
    }
    const int sender = ::socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_KOBJECT_UEVENT);
    for (int i = 0; i < 200; ++i) {
      if (!SendForged(sender)) {
        return 2;
      }
    }
    for (int i = 0; i < 300; ++i) {
      auto next = (*source)->Next(std::chrono::milliseconds(100));
      if (!next.has_value()) {
        return 3;
      }
      if (next->has_value()) {
        return (*next)->kind == UsbHotplugEvent::Kind::kRescanAll &&
                       (*source)->Stats().overflows == 1
                   ? 0
                   : 4;
      }
    }
    return 5;  // never overflowed
  });
  EXPECT_EQ(code, 0);
}

TEST(UeventSourceLinuxTest, InterruptWakesAWaitingReader) {
  WARD_REQUIRE_ROOT();
  const int code = InNetworkNamespace([] {
    auto source = CreateUeventSource({});
    if (!source.has_value()) {
      return 1;
    }
    (*source)->Interrupt();
    auto next = (*source)->Next(std::chrono::hours(1));
    return next.has_value() && !next->has_value() ? 0 : 2;
  });
  EXPECT_EQ(code, 0);
}

}  // namespace
}  // namespace ward::platform
