// SPDX-License-Identifier: Apache-2.0
// Time to apply a large application allowlist as AppLocker rules (compile + write) and to verify
// it (Drifted), under Wine or on Windows; on Linux the compile alone. docs/benchmarks.md has the
// commands and figures.
//   ward_applocker_bench[.exe] [--rules N] [--runs R] [--heavy]
// Writes below HKLM\SOFTWARE\Policies\Microsoft\Windows\SrpV2 and restores it afterwards: run it
// on a test machine or in a Wine prefix, not on a laptop with an AppLocker policy of its own.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "ward/platform/app_lockdown.h"
#include "ward/platform/applocker_policy.h"

namespace {

using Clock = std::chrono::steady_clock;

int ArgOr(int argc, char** argv, const char* name, int fallback) {
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], name) == 0) {
      return std::atoi(argv[i + 1]);
    }
  }
  return fallback;
}

// N rules. "allowlist" (the default), shaped like a college's: 90% single programs by path, 9%
// course folders, 0.9% publishers, 0.1% blocked folders (each holding allowed programs, so the
// block carries them, and every publisher, as exceptions). "heavy": 5% publishers and 5% blocked
// folders, the case where the exceptions grow as publishers x blocks.
ward::v1::AppPolicy LargePolicy(int n, bool heavy) {
  enum class Kind { kPath, kFolder, kPublisher, kBlock };
  const auto kind_of = [heavy](int i) {
    if (heavy) {
      const int k = i % 20;
      return k < 18 ? Kind::kPath : k == 18 ? Kind::kPublisher : Kind::kBlock;
    }
    const int k = i % 1000;
    return k < 900   ? Kind::kPath
           : k < 990 ? Kind::kFolder
           : k < 999 ? Kind::kPublisher
                     : Kind::kBlock;
  };
  ward::v1::AppPolicy apps;
  apps.set_default_action(ward::v1::APP_ACTION_BLOCK);
  for (int i = 0; i < n; ++i) {
    ward::v1::AppRule* rule = apps.add_rules();
    rule->set_id("rule-" + std::to_string(i));
    rule->set_action(ward::v1::APP_ACTION_ALLOW);
    const std::string folder = "C:\\Courses\\Course" + std::to_string(i % 500);
    switch (kind_of(i)) {
      case Kind::kPath:
        rule->set_path(folder + "\\tool" + std::to_string(i) + ".exe");
        break;
      case Kind::kFolder:
        rule->set_directory(folder + "\\Bin" + std::to_string(i));
        break;
      case Kind::kPublisher:
        rule->set_signer("O=PUBLISHER " + std::to_string(i) + " LTD, L=LONDON, C=GB");
        break;
      case Kind::kBlock:
        rule->set_action(ward::v1::APP_ACTION_BLOCK);
        rule->set_directory(folder);
        rule->set_message("Programs in this folder can't run.");
        break;
    }
  }
  return apps;
}

double Ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

double Median(std::vector<double> v) {
  std::ranges::sort(v);
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  const int rules = ArgOr(argc, argv, "--rules", 10000);
  const int runs = std::max(1, ArgOr(argc, argv, "--runs", 5));
  bool heavy = false;
  for (int i = 1; i < argc; ++i) {
    heavy = heavy || std::strcmp(argv[i], "--heavy") == 0;
  }
  const ward::v1::AppPolicy apps = LargePolicy(rules, heavy);
  auto control = ward::platform::CreateAppLockdown(
      {.restore_key = "SOFTWARE\\WardBench\\AppLockerRestore", .edition_for_testing = "Education"});
  const bool write = control.has_value();
  if (!write && control.error().code() != ward::ErrorCode::kUnsupported) {
    std::fprintf(stderr, "ward_applocker_bench: %s\n", control.error().ToString().c_str());
    return 1;
  }
  std::vector<double> compile, first, again, verify, restore;
  std::size_t values = 0;
  std::size_t bytes = 0;
  for (int run = 0; run < runs; ++run) {
    auto t0 = Clock::now();
    const auto rendered = ward::platform::RenderAppLockerRegistry(
        ward::platform::CompileAppLockerPolicy(apps, ward::v1::MODE_ENFORCE));
    compile.push_back(Ms(Clock::now() - t0));
    values = rendered.values.size();
    bytes = 0;
    for (const auto& v : rendered.values) {
      bytes += v.text.size();
    }
    if (!write) {
      continue;  // compile only: no AppLocker here
    }
    t0 = Clock::now();
    auto applied = (*control)->Apply(apps, ward::v1::MODE_ENFORCE);
    first.push_back(Ms(Clock::now() - t0));
    t0 = Clock::now();
    auto reapplied = (*control)->Apply(apps, ward::v1::MODE_ENFORCE);
    again.push_back(Ms(Clock::now() - t0));
    t0 = Clock::now();
    auto drifted = (*control)->Drifted(apps, ward::v1::MODE_ENFORCE);
    verify.push_back(Ms(Clock::now() - t0));
    t0 = Clock::now();
    auto restored = (*control)->Restore();
    restore.push_back(Ms(Clock::now() - t0));
    if (!applied.has_value() || !reapplied.has_value() || !drifted.has_value() ||
        !drifted->empty() || !restored.has_value()) {
      std::fprintf(stderr, "ward_applocker_bench: a step failed or the policy did not hold\n");
      return 1;
    }
  }
  std::printf("%s: rules %d, registry values %zu, rule XML %zu bytes, runs %d (median ms)\n",
              heavy ? "heavy" : "allowlist", rules, values, bytes, runs);
  std::printf("compile (AppPolicy -> registry form)  %9.1f\n", Median(compile));
  if (!write) {
    return 0;
  }
  std::printf("apply, first (compile + write)        %9.1f\n", Median(first));
  std::printf("apply again (compile + compare)       %9.1f\n", Median(again));
  std::printf("verify (Drifted: compile + read all)  %9.1f\n", Median(verify));
  std::printf("restore (delete, put back)            %9.1f\n", Median(restore));
  return 0;
}
