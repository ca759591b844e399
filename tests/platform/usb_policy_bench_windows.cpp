// SPDX-License-Identifier: Apache-2.0
// Writes the plan below HKEY_LOCAL_MACHINE (the real policy keys: run it in a Wine prefix or on a
// test machine, never on a laptop in use), then restores what was there.
#include <cstdio>

#include "usb_policy_bench.h"

namespace ward::platform {

int BenchBackend(const UsbRegistryPlan& plan, int runs) {
  auto created = CreateUsbInstallPolicy({.restore_key = "SOFTWARE\\WardBench\\UsbRestore"});
  if (!created.has_value()) {
    std::fprintf(stderr, "%s\n", created.error().ToString().c_str());
    return 1;
  }
  UsbInstallPolicy& control = **created;
  bool ok = true;
  TimeIt("write (Apply, registry as before)", runs,
         [&] { ok = ok && control.Restore().has_value() && control.Apply(plan).has_value(); });
  TimeIt("write again (Apply, nothing changed)", runs,
         [&] { ok = ok && control.Apply(plan).has_value(); });
  std::size_t drift = 0;
  TimeIt("verify (Drifted: read back and compare)", runs, [&] {
    auto drifted = control.Drifted(plan);
    ok = ok && drifted.has_value();
    drift = drifted.has_value() ? drifted->size() : 0;
  });
  std::printf("drift after apply: %zu places\n", drift);
  ok = ok && control.Restore().has_value();
  if (!ok || drift != 0) {
    std::fprintf(stderr, "a step failed\n");
    return 1;
  }
  return 0;
}

}  // namespace ward::platform
