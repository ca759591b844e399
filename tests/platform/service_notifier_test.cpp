// SPDX-License-Identifier: Apache-2.0
// The notifier against real AF_UNIX datagram sockets (a path and an abstract name), as systemd
// listens for them, and the watchdog environment as sd_watchdog_enabled(3) reads it.
#include "ward/platform/service_notifier.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>

#include <gtest/gtest.h>

#include "ward/testing/temp_dir.h"

namespace ward::platform {
namespace {

using std::chrono::microseconds;

// A datagram socket bound where the service manager would listen. `name` is a path or
// "@abstract", spelled as in $NOTIFY_SOCKET.
class Listener {
 public:
  explicit Listener(const std::string& name) : name_(name) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    EXPECT_GE(fd_, 0) << std::strerror(errno);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::memcpy(address.sun_path, name.data(), name.size());
    std::size_t length = name.size();
    if (name.front() == '@') {
      address.sun_path[0] = '\0';
    } else {
      ++length;
    }
    EXPECT_EQ(::bind(fd_, reinterpret_cast<const sockaddr*>(&address),
                     static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + length)),
              0)
        << name << ": " << std::strerror(errno);
  }
  ~Listener() { Close(); }
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;

  // The next datagram, or "<nothing>" when none is queued.
  std::string Next() {
    std::array<char, 4096> buffer{};
    const ssize_t n = ::recv(fd_, buffer.data(), buffer.size(), MSG_DONTWAIT);
    return n < 0 ? std::string("<nothing>")
                 : std::string(buffer.data(), static_cast<std::size_t>(n));
  }
  void Close() {
    if (fd_ >= 0) {
      ::close(fd_);
      fd_ = -1;
    }
  }
  const std::string& name() const { return name_; }

 private:
  std::string name_;
  int fd_ = -1;
};

// Sets (or unsets) an environment variable for one test and restores it afterwards.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name); old != nullptr) {
      old_ = old;
    }
    if (value == nullptr) {
      ::unsetenv(name);
    } else {
      ::setenv(name, value, 1);
    }
  }
  ~ScopedEnv() {
    if (old_.has_value()) {
      ::setenv(name_, old_->c_str(), 1);
    } else {
      ::unsetenv(name_);
    }
  }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  const char* name_;
  std::optional<std::string> old_;
};

std::string AbstractName(const std::string& what) {
  return "@ward-notify-test-" + std::to_string(::getpid()) + "-" + what;
}

ServiceNotifierOptions SocketOnly(const std::string& name) {
  ServiceNotifierOptions options;
  options.notify_socket = name;
  return options;
}

std::unique_ptr<ServiceNotifier> MustCreate(const ServiceNotifierOptions& options) {
  auto notifier = CreateServiceNotifier(options);
  EXPECT_TRUE(notifier.has_value()) << notifier.error().ToString();
  return notifier.has_value() ? *std::move(notifier) : nullptr;
}

TEST(ServiceNotifierTest, SendsEachStateToAPathSocket) {
  ward::testing::TempDir dir;
  Listener listener((dir.path() / "notify").string());
  auto notifier = MustCreate(SocketOnly(listener.name()));
  ASSERT_NE(notifier, nullptr);
  EXPECT_TRUE(notifier->Listening());

  ASSERT_TRUE(notifier->Ready("policy 7 (enforce), usb on"));
  EXPECT_EQ(listener.Next(), "READY=1\nSTATUS=policy 7 (enforce), usb on");
  ASSERT_TRUE(notifier->Reloading());
  EXPECT_EQ(listener.Next(), "RELOADING=1");
  ASSERT_TRUE(notifier->WatchdogPing());
  EXPECT_EQ(listener.Next(), "WATCHDOG=1");
  ASSERT_TRUE(notifier->Stopping());
  EXPECT_EQ(listener.Next(), "STOPPING=1");
  EXPECT_EQ(listener.Next(), "<nothing>");
}

TEST(ServiceNotifierTest, SendsToAnAbstractSocket) {
  Listener listener(AbstractName("abstract"));
  auto notifier = MustCreate(SocketOnly(listener.name()));
  ASSERT_NE(notifier, nullptr);
  ASSERT_TRUE(notifier->Ready("up"));
  EXPECT_EQ(listener.Next(), "READY=1\nSTATUS=up");
  ASSERT_TRUE(notifier->WatchdogPing());
  EXPECT_EQ(listener.Next(), "WATCHDOG=1");
}

TEST(ServiceNotifierTest, StatusNewlinesCannotAddAssignments) {
  Listener listener(AbstractName("newline"));
  auto notifier = MustCreate(SocketOnly(listener.name()));
  ASSERT_NE(notifier, nullptr);
  ASSERT_TRUE(notifier->Ready("policy 1\nSTOPPING=1"));
  EXPECT_EQ(listener.Next(), "READY=1\nSTATUS=policy 1 STOPPING=1");
}

TEST(ServiceNotifierTest, ReadsNotifySocketFromTheEnvironmentAndLeavesItSet) {
  Listener listener(AbstractName("env"));
  ScopedEnv socket("NOTIFY_SOCKET", listener.name().c_str());
  auto notifier = MustCreate({});
  ASSERT_NE(notifier, nullptr);
  EXPECT_TRUE(notifier->Listening());
  ASSERT_TRUE(notifier->Stopping());
  EXPECT_EQ(listener.Next(), "STOPPING=1");
  ASSERT_NE(std::getenv("NOTIFY_SOCKET"), nullptr);
  EXPECT_EQ(std::string(std::getenv("NOTIFY_SOCKET")), listener.name());
}

TEST(ServiceNotifierTest, WithoutNotifySocketEveryCallIsANoOp) {
  ScopedEnv socket("NOTIFY_SOCKET", nullptr);
  auto notifier = MustCreate({});
  ASSERT_NE(notifier, nullptr);
  EXPECT_FALSE(notifier->Listening());
  EXPECT_TRUE(notifier->Ready("up"));
  EXPECT_TRUE(notifier->Reloading());
  EXPECT_TRUE(notifier->WatchdogPing());
  EXPECT_TRUE(notifier->Stopping());
}

TEST(ServiceNotifierTest, RejectsSocketNamesSystemdWouldNotUse) {
  const std::string too_long = "/" + std::string(200, 'x');
  for (const std::string name :
       {"", "run/systemd/notify", "@", "/", "vsock:2:1234", too_long.c_str()}) {
    auto notifier = CreateServiceNotifier(SocketOnly(name));
    ASSERT_FALSE(notifier.has_value()) << "'" << name << "'";
    EXPECT_EQ(notifier.error().code(), ErrorCode::kInvalidArgument) << name;
    EXPECT_NE(notifier.error().message().find("NOTIFY_SOCKET"), std::string::npos);
  }
}

TEST(ServiceNotifierTest, AMissingSocketIsAClearErrorNamingIt) {
  ward::testing::TempDir dir;
  const std::string name = (dir.path() / "gone").string();
  auto notifier = MustCreate(SocketOnly(name));
  ASSERT_NE(notifier, nullptr);
  const auto sent = notifier->Ready("up");
  ASSERT_FALSE(sent.has_value());
  EXPECT_EQ(sent.error().code(), ErrorCode::kNotFound);
  EXPECT_EQ(sent.error().os_code(), ENOENT);
  EXPECT_NE(sent.error().message().find(name), std::string::npos) << sent.error().ToString();
}

TEST(ServiceNotifierTest, AClosedPeerIsAnErrorNotASignal) {
  ward::testing::TempDir dir;
  Listener listener((dir.path() / "notify").string());
  auto notifier = MustCreate(SocketOnly(listener.name()));
  ASSERT_NE(notifier, nullptr);
  ASSERT_TRUE(notifier->WatchdogPing());
  listener.Close();  // The path stays; nobody is bound to it any more.
  const auto sent = notifier->WatchdogPing();
  ASSERT_FALSE(sent.has_value());
  EXPECT_EQ(sent.error().os_code(), ECONNREFUSED) << sent.error().ToString();
}

ServiceNotifierOptions Watchdog(std::optional<std::string> usec, std::optional<std::string> pid) {
  ServiceNotifierOptions options;
  options.notify_socket = AbstractName("watchdog");
  options.watchdog_usec = std::move(usec);
  options.watchdog_pid = std::move(pid);
  return options;
}

TEST(ServiceNotifierWatchdogTest, IntervalIsWatchdogUsecWhenThePidIsOursOrUnset) {
  ScopedEnv pid_env("WATCHDOG_PID", nullptr);
  auto own = MustCreate(Watchdog("30000000", std::to_string(::getpid())));
  ASSERT_NE(own, nullptr);
  ASSERT_TRUE(own->WatchdogInterval());
  EXPECT_EQ(own->WatchdogInterval().value(), microseconds(30'000'000));

  auto any = MustCreate(Watchdog("1500", std::nullopt));
  ASSERT_NE(any, nullptr);
  EXPECT_EQ(any->WatchdogInterval().value(), microseconds(1500));
}

TEST(ServiceNotifierWatchdogTest, NoWatchdogWhenUnsetOrMeantForAnotherProcess) {
  ScopedEnv usec_env("WATCHDOG_USEC", nullptr);
  auto unset = MustCreate(Watchdog(std::nullopt, std::nullopt));
  ASSERT_NE(unset, nullptr);
  ASSERT_TRUE(unset->WatchdogInterval());
  EXPECT_EQ(unset->WatchdogInterval().value(), std::nullopt);

  auto other = MustCreate(Watchdog("30000000", std::to_string(::getpid() + 1)));
  ASSERT_NE(other, nullptr);
  ASSERT_TRUE(other->WatchdogInterval());
  EXPECT_EQ(other->WatchdogInterval().value(), std::nullopt);
}

TEST(ServiceNotifierWatchdogTest, MalformedValuesAreInvalidArguments) {
  for (const std::string usec : {"", "0", "-5", "+5", " 5", "5 ", "0x10", "abc", "1.5",
                                 "18446744073709551615", "18446744073709551616"}) {
    auto notifier = MustCreate(Watchdog(usec, std::nullopt));
    ASSERT_NE(notifier, nullptr);
    const auto interval = notifier->WatchdogInterval();
    ASSERT_FALSE(interval.has_value()) << "'" << usec << "'";
    EXPECT_EQ(interval.error().code(), ErrorCode::kInvalidArgument);
    EXPECT_NE(interval.error().message().find("WATCHDOG_USEC"), std::string::npos);
  }
  for (const std::string pid : {"", "0", "-1", "self", "99999999999"}) {
    auto notifier = MustCreate(Watchdog("30000000", pid));
    ASSERT_NE(notifier, nullptr);
    const auto interval = notifier->WatchdogInterval();
    ASSERT_FALSE(interval.has_value()) << "'" << pid << "'";
    EXPECT_EQ(interval.error().code(), ErrorCode::kInvalidArgument);
    EXPECT_NE(interval.error().message().find("WATCHDOG_PID"), std::string::npos);
  }
}

TEST(ServiceNotifierWatchdogTest, ReadsTheEnvironmentAndLeavesItSet) {
  const std::string pid = std::to_string(::getpid());
  ScopedEnv usec_env("WATCHDOG_USEC", "20000000");
  ScopedEnv pid_env("WATCHDOG_PID", pid.c_str());
  ScopedEnv socket_env("NOTIFY_SOCKET", nullptr);
  auto notifier = MustCreate({});
  ASSERT_NE(notifier, nullptr);
  EXPECT_EQ(notifier->WatchdogInterval().value(), microseconds(20'000'000));
  ASSERT_NE(std::getenv("WATCHDOG_USEC"), nullptr);
  EXPECT_EQ(std::string(std::getenv("WATCHDOG_USEC")), "20000000");
  ASSERT_NE(std::getenv("WATCHDOG_PID"), nullptr);
  EXPECT_EQ(std::string(std::getenv("WATCHDOG_PID")), pid);
}

}  // namespace
}  // namespace ward::platform
