// SPDX-License-Identifier: Apache-2.0
// Guest helper for usb_e2e.sh: prints every kernel uevent as one line
// "<CLOCK_REALTIME seconds.nanoseconds> <action>@<devpath>" on stdout, so the test can time the
// agent's USB decisions against the moment the kernel announced the device. Built static.
#include <linux/netlink.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

int main(void) {
  int fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_KOBJECT_UEVENT);
  if (fd < 0) {
    perror("socket");
    return 1;
  }
  struct sockaddr_nl addr = {.nl_family = AF_NETLINK, .nl_groups = 1};
  if (bind(fd, (struct sockaddr*)&addr, sizeof(addr)) != 0) {
    perror("bind");
    return 1;
  }
  setvbuf(stdout, NULL, _IOLBF, 0);
  char buf[8192];
  for (;;) {
    ssize_t n = recv(fd, buf, sizeof(buf) - 1, 0);
    if (n <= 0) {
      continue;
    }
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    buf[n] = '\0';
    // The header is "action@devpath"; libudev's own messages start with "libudev".
    if (strchr(buf, '@') == NULL) {
      continue;
    }
    printf("%lld.%09ld %s\n", (long long)ts.tv_sec, ts.tv_nsec, buf);
  }
}
