// SPDX-License-Identifier: Apache-2.0
#include <linux/netlink.h>
#include <sys/socket.h>

#include <atomic>
#include <cerrno>
#include <cstring>

#include "unique_fd_linux.h"
#include "usb_names_linux.h"
#include "wakeable_wait_linux.h"
#include "ward/common/log.h"
#include "ward/platform/uevent.h"
#include "ward/platform/uevent_source.h"

namespace ward::platform {
namespace {

using internal::UniqueFd;

// The kernel's multicast group on NETLINK_KOBJECT_UEVENT (udev re-broadcasts on group 2).
constexpr unsigned kKernelGroup = 1;

std::optional<UsbHotplugEvent> ToHotplug(const Uevent& event) {
  if (event.subsystem != "usb") {
    return std::nullopt;
  }
  const bool is_interface = event.devtype == "usb_interface";
  if (!is_interface && event.devtype != "usb_device") {
    return std::nullopt;
  }
  const std::string id = event.devpath.substr(event.devpath.rfind('/') + 1);
  if (is_interface ? !internal::IsUsbInterfaceName(id) : !internal::IsUsbDeviceName(id)) {
    return std::nullopt;
  }
  UsbHotplugEvent out;
  out.id = id;
  out.is_interface = is_interface;
  out.seqnum = event.seqnum;
  if (event.action == "add") {
    out.kind = UsbHotplugEvent::Kind::kAdded;
  } else if (event.action == "remove") {
    out.kind = UsbHotplugEvent::Kind::kRemoved;
  } else if (event.action == "change" || event.action == "bind" || event.action == "unbind") {
    out.kind = UsbHotplugEvent::Kind::kChanged;
  } else {
    return std::nullopt;
  }
  return out;
}

class NetlinkUeventSource final : public UeventSource {
 public:
  NetlinkUeventSource(UniqueFd socket, internal::WakeableWait wait)
      : socket_(std::move(socket)), wait_(std::move(wait)) {}

  Result<std::optional<UsbHotplugEvent>> Next(std::chrono::milliseconds max_wait) override {
    const auto deadline = std::chrono::steady_clock::now() + max_wait;
    for (;;) {
      WARD_ASSIGN_OR_RETURN(const auto outcome, wait_.Wait(socket_.get(), deadline));
      if (outcome != internal::WakeableWait::Outcome::kReadable) {
        return std::nullopt;
      }
      WARD_ASSIGN_OR_RETURN(auto event, ReceiveOne());
      if (event.has_value()) {
        return event;
      }
    }
  }

  void Interrupt() override { wait_.Wake(); }

  UeventSourceStats Stats() const override {
    return UeventSourceStats{.accepted = accepted_.load(),
                             .kernel_messages = kernel_messages_.load(),
                             .rejected_sender = rejected_sender_.load(),
                             .rejected_malformed = rejected_malformed_.load(),
                             .overflows = overflows_.load()};
  }

 private:
  // One datagram. std::nullopt when it was dropped (not USB, not from the kernel, malformed).
  Result<std::optional<UsbHotplugEvent>> ReceiveOne() {
    sockaddr_nl sender{};
    iovec iov{buffer_, sizeof(buffer_)};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(ucred))];
    msghdr msg{};
    msg.msg_name = &sender;
    msg.msg_namelen = sizeof(sender);
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof(control);
    const ssize_t n = ::recvmsg(socket_.get(), &msg, MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR) {
        return std::nullopt;
      }
      if (errno == ENOBUFS) {
        // The kernel dropped messages: our view of the tree is stale.
        ++overflows_;
        UsbHotplugEvent rescan;
        rescan.kind = UsbHotplugEvent::Kind::kRescanAll;
        return rescan;
      }
      return std::unexpected(ErrnoError("recvmsg uevent socket", errno));
    }
    if (msg.msg_namelen != sizeof(sender) || sender.nl_family != AF_NETLINK || sender.nl_pid != 0 ||
        !SentByKernel(msg)) {
      ++rejected_sender_;
      return std::nullopt;
    }
    if ((msg.msg_flags & MSG_TRUNC) != 0) {
      ++rejected_malformed_;
      return std::nullopt;
    }
    auto parsed = ParseKernelUevent(std::span<const char>(buffer_, static_cast<std::size_t>(n)));
    if (!parsed.has_value()) {
      ++rejected_malformed_;
      log::Warning("dropped malformed uevent", {{"error", parsed.error().ToString()}});
      return std::nullopt;
    }
    ++kernel_messages_;
    auto event = ToHotplug(*parsed);
    if (event.has_value()) {
      ++accepted_;
    }
    return event;
  }

  static bool SentByKernel(msghdr& msg) {
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
      if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS &&
          c->cmsg_len >= CMSG_LEN(sizeof(ucred))) {
        ucred cred;
        std::memcpy(&cred, CMSG_DATA(c), sizeof(cred));
        return cred.pid == 0 && cred.uid == 0;
      }
    }
    return false;  // no credentials: refuse
  }

  UniqueFd socket_;
  internal::WakeableWait wait_;
  char buffer_[kMaxUeventBytes + 1];
  std::atomic<std::uint64_t> accepted_{0};
  std::atomic<std::uint64_t> kernel_messages_{0};
  std::atomic<std::uint64_t> rejected_sender_{0};
  std::atomic<std::uint64_t> rejected_malformed_{0};
  std::atomic<std::uint64_t> overflows_{0};
};

}  // namespace

Result<std::unique_ptr<UeventSource>> CreateUeventSource(const UeventSourceOptions& options) {
  UniqueFd sock(
      ::socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_KOBJECT_UEVENT));
  if (!sock.valid()) {
    return std::unexpected(ErrnoError("socket(NETLINK_KOBJECT_UEVENT)", errno));
  }
  const int size = options.receive_buffer_bytes;
  // FORCE (root) goes past net.core.rmem_max; fall back to the capped size otherwise.
  if (::setsockopt(sock.get(), SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) != 0 &&
      ::setsockopt(sock.get(), SOL_SOCKET, SO_RCVBUF, &size, sizeof(size)) != 0) {
    return std::unexpected(ErrnoError("setsockopt SO_RCVBUF on uevent socket", errno));
  }
  const int on = 1;
  if (::setsockopt(sock.get(), SOL_SOCKET, SO_PASSCRED, &on, sizeof(on)) != 0) {
    return std::unexpected(ErrnoError("setsockopt SO_PASSCRED on uevent socket", errno));
  }
  sockaddr_nl address{};
  address.nl_family = AF_NETLINK;
  address.nl_groups = kKernelGroup;
  if (::bind(sock.get(), reinterpret_cast<const sockaddr*>(&address), sizeof(address)) != 0) {
    return std::unexpected(ErrnoError("bind uevent socket", errno));
  }
  WARD_ASSIGN_OR_RETURN(auto wait, internal::WakeableWait::Create());
  return std::make_unique<NetlinkUeventSource>(std::move(sock), std::move(wait));
}

}  // namespace ward::platform
