// SPDX-License-Identifier: Apache-2.0
// Policy engine throughput with generated policies of N USB rules and N application rules.
// Run: build/ci/tests/bench/ward_policy_bench (see docs/benchmarks.md).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "ward/policy/app_evaluator.h"
#include "ward/policy/loader.h"
#include "ward/policy/usb_evaluator.h"

namespace {

std::string Hex(std::uint64_t value, int digits) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(static_cast<std::size_t>(digits), '0');
  for (int i = digits - 1; i >= 0; --i) {
    out[static_cast<std::size_t>(i)] = kDigits[value & 0xf];
    value >>= 4;
  }
  return out;
}

// A deterministic 64-hex-digit digest for rule i.
std::string Digest(std::uint64_t i) {
  std::uint64_t x = i * 0x9E3779B97F4A7C15ull + 1;
  std::string out;
  for (int part = 0; part < 4; ++part) {
    x ^= x >> 31;
    x *= 0xBF58476D1CE4E5B9ull;
    out += Hex(x, 16);
  }
  return out;
}

// Generated policy: `rules` USB rules (90% exact vendor:product+serial, 9% vendor-wide, 1%
// interface-class rules with time windows) and `rules` app rules (90% sha256 half allow/half
// block, 5% paths, 3% packages, 2% directories).
// With `unindexed`, each exact-id rule also lists "*:fffe" (a product no benchmark device has),
// which matches the same devices but puts every rule on the any-id list: the linear scan the
// vendor:product index avoids, for a side-by-side ratio.
std::string GeneratePolicyJson(int rules, bool unindexed = false) {
  std::string json = R"({"version": 7, "mode": "MODE_ENFORCE", "audience": "AUDIENCE_ADULT",
      "aup": {"version": 1, "text_adult": "Use this laptop for your course."},
      "usb": {"default_action": "USB_ACTION_BLOCK", "rules": [)";
  for (int i = 0; i < rules; ++i) {
    const auto u = static_cast<std::uint64_t>(i);
    if (i > 0) {
      json += ",";
    }
    json += R"({"id": "usb-)" + std::to_string(i) + R"(", "action": ")" +
            (i % 3 == 0 ? "USB_ACTION_BLOCK" : "USB_ACTION_ALLOW") + "\", ";
    const int kind = i % 100;
    if (kind < 90) {
      json += R"("device_id": {"op": "SET_OPERATOR_ONE_OF", "values": [")" +
              Hex(0x1000 + u / 16, 4) + ":" + Hex(u, 4) + (unindexed ? R"(", "*:fffe)" : "") +
              R"("]}, "serial": {"values": ["SN)" + std::to_string(i) + "\"]}}";
    } else if (kind < 99) {
      json += R"("device_id": {"values": [")" + Hex(0x8000 + u, 4) + R"(:*"]}})";
    } else {
      json += R"("with_interface": {"op": "SET_OPERATOR_ONE_OF", "values": [")" + Hex(u / 100, 2) +
              R"(:*:*"]}, "when": {"local_time": "08:00-16:00"}})";
    }
  }
  json += R"(]}, "apps": {"default_action": "APP_ACTION_BLOCK", "rules": [)";
  for (int i = 0; i < rules; ++i) {
    const auto u = static_cast<std::uint64_t>(i);
    if (i > 0) {
      json += ",";
    }
    json += R"({"id": "app-)" + std::to_string(i) + R"(", "action": ")" +
            (i % 2 == 0 ? "APP_ACTION_ALLOW" : "APP_ACTION_BLOCK") + "\", ";
    const int kind = i % 100;
    if (kind < 90) {
      json += R"("sha256": ")" + Digest(u) + "\"}";
    } else if (kind < 95) {
      json += R"("path": "/opt/app)" + std::to_string(i) + R"(/bin/run"})";
    } else if (kind < 98) {
      json += R"("package": "pkg)" + std::to_string(i) + "\"}";
    } else {
      json += R"("directory": "/srv/tools)" + std::to_string(i) + "\"}";
    }
  }
  json += "]}}";
  return json;
}

const ward::v1::Policy& PolicyWith(int rules, bool unindexed = false) {
  static std::map<std::pair<int, bool>, ward::v1::Policy> cache;
  auto [it, inserted] = cache.try_emplace(std::pair{rules, unindexed});
  if (inserted) {
    auto policy = ward::policy::LoadPolicyJson(GeneratePolicyJson(rules, unindexed));
    if (!policy) {
      std::fprintf(stderr, "generated policy is invalid: %s\n", policy.error().message().c_str());
      std::abort();
    }
    it->second = std::move(*policy);
  }
  return it->second;
}

void BM_LoadPolicyJson(benchmark::State& state) {
  const std::string json = GeneratePolicyJson(static_cast<int>(state.range(0)));
  for (auto _ : state) {
    auto policy = ward::policy::LoadPolicyJson(json);
    benchmark::DoNotOptimize(policy);
  }
  state.counters["json_bytes"] = static_cast<double>(json.size());
}
BENCHMARK(BM_LoadPolicyJson)->Arg(5'000)->Arg(10'000)->Unit(benchmark::kMillisecond);

// What an agent does with pushed bytes once the signature checks out: parse the binary
// Policy and validate it.
void BM_ParseBinaryAndValidate(benchmark::State& state) {
  const std::string bytes = PolicyWith(static_cast<int>(state.range(0))).SerializeAsString();
  for (auto _ : state) {
    ward::v1::Policy policy;
    if (!policy.ParseFromString(bytes)) {
      state.SkipWithError("parse failed");
      break;
    }
    auto issues = ward::policy::ValidatePolicy(policy);
    benchmark::DoNotOptimize(issues);
  }
  state.counters["binary_bytes"] = static_cast<double>(bytes.size());
}
BENCHMARK(BM_ParseBinaryAndValidate)->Arg(5'000)->Arg(10'000)->Unit(benchmark::kMillisecond);

void BM_ValidatePolicy(benchmark::State& state) {
  const auto& policy = PolicyWith(static_cast<int>(state.range(0)));
  for (auto _ : state) {
    auto issues = ward::policy::ValidatePolicy(policy);
    benchmark::DoNotOptimize(issues);
  }
}
BENCHMARK(BM_ValidatePolicy)->Arg(5'000)->Arg(10'000)->Unit(benchmark::kMillisecond);

void BM_CompileEvaluators(benchmark::State& state) {
  const auto& policy = PolicyWith(static_cast<int>(state.range(0)));
  for (auto _ : state) {
    auto usb = ward::policy::UsbEvaluator::Create(policy);
    auto apps = ward::policy::AppEvaluator::Create(policy);
    benchmark::DoNotOptimize(usb);
    benchmark::DoNotOptimize(apps);
  }
}
BENCHMARK(BM_CompileEvaluators)->Arg(5'000)->Arg(10'000)->Unit(benchmark::kMillisecond);

// Devices cycling through: exact-rule matches, vendor-wide matches and unmatched devices.
std::vector<ward::policy::UsbDeviceInfo> Devices(int rules) {
  std::vector<ward::policy::UsbDeviceInfo> devices;
  for (int i = 0; i < 64; ++i) {
    const auto u = static_cast<std::uint64_t>((i * 7919) % rules);
    ward::policy::UsbDeviceInfo d;
    if (i % 4 == 3) {
      d.vendor_id = 0x7777;  // nothing names it
      d.product_id = static_cast<std::uint16_t>(i);
    } else {
      d.vendor_id = static_cast<std::uint16_t>(0x1000 + u / 16);
      d.product_id = static_cast<std::uint16_t>(u);
      d.serial = "SN" + std::to_string(u);
    }
    d.interfaces = {{0x08, 0x06, 0x50, 0}};
    devices.push_back(std::move(d));
  }
  return devices;
}

void BM_UsbEvaluate(benchmark::State& state) {
  const int rules = static_cast<int>(state.range(0));
  auto usb = ward::policy::UsbEvaluator::Create(PolicyWith(rules, state.range(1) != 0));
  const auto devices = Devices(rules);
  std::size_t i = 0;
  for (auto _ : state) {
    auto decision = (*usb)->Evaluate(devices[i++ % devices.size()], {12, 0});
    benchmark::DoNotOptimize(decision);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_UsbEvaluate)
    ->ArgNames({"rules", "unindexed"})
    ->Args({10, 0})
    ->Args({10'000, 0})
    ->Args({10'000, 1});

// Exec requests whose digest is one of the policy's sha256 rules (or, one in 8, no rule's).
void BM_ExecByHash(benchmark::State& state) {
  const int rules = static_cast<int>(state.range(0));
  auto apps = ward::policy::AppEvaluator::Create(PolicyWith(rules));
  std::vector<std::string> digests;
  for (int i = 0; i < 256; ++i) {
    const int rule = (i * 7919) % rules;
    digests.push_back(i % 8 == 7 || rule % 100 >= 90 ? Digest(1'000'000u + static_cast<unsigned>(i))
                                                     : Digest(static_cast<std::uint64_t>(rule)));
  }
  std::size_t i = 0;
  const std::string* current = nullptr;
  ward::policy::ExecRequest request;
  request.path = "/home/learner/Downloads/tool";
  request.sha256 = [&current]() -> ward::Result<std::string> { return *current; };
  for (auto _ : state) {
    current = &digests[i++ % digests.size()];
    auto decision = (*apps)->Evaluate(request);
    benchmark::DoNotOptimize(decision);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_ExecByHash)->Arg(10)->Arg(10'000);

}  // namespace

BENCHMARK_MAIN();
