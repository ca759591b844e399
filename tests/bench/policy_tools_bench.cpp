// SPDX-License-Identifier: Apache-2.0
// What an agent pays to accept a pushed policy: signed bundle bytes -> verified, validated
// Policy, for generated policies of N USB rules plus N application rules, with the parts
// measured side by side so the split is visible.
// Run: build/ci/tests/bench/ward_policy_tools_bench (see docs/benchmarks.md).
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <map>
#include <string>

#include <benchmark/benchmark.h>
#include <openssl/sha.h>

#include "ward/common/hex.h"
#include "ward/policy/loader.h"
#include "ward/policy/signing.h"

namespace {

using ward::policy::SigningKey;

// SHA-256 of the rule number, as a distinct 64-hex-digit application digest.
std::string DigestOf(int i) {
  const std::string text = std::to_string(i);
  std::uint8_t digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(text.data()), text.size(), digest);
  return ward::HexEncode(digest);
}

std::string Hex4(unsigned value) {
  const std::uint8_t bytes[2] = {static_cast<std::uint8_t>(value >> 8),
                                 static_cast<std::uint8_t>(value & 0xff)};
  return ward::HexEncode(bytes);
}

// A valid policy with `rules` USB rules (exact vendor:product + serial; every 50th a
// vendor-wide rule in a time window) and `rules` application rules (90% sha256, the rest
// paths and packages).
ward::v1::Policy GeneratePolicy(int rules) {
  ward::v1::Policy policy;
  policy.set_version(42);
  policy.set_name("Generated benchmark policy");
  policy.set_mode(ward::v1::MODE_ENFORCE);
  policy.set_audience(ward::v1::AUDIENCE_ADULT);
  policy.mutable_issued_at()->set_seconds(1790000000);
  policy.mutable_aup()->set_version(1);
  policy.mutable_aup()->set_text_adult("Use this laptop for your course.");
  auto& usb = *policy.mutable_usb();
  usb.set_default_action(ward::v1::USB_ACTION_BLOCK);
  for (int i = 0; i < rules; ++i) {
    auto& rule = *usb.add_rules();
    const auto u = static_cast<unsigned>(i);
    rule.set_id("usb-" + std::to_string(i));
    rule.set_action(i % 3 == 0 ? ward::v1::USB_ACTION_BLOCK : ward::v1::USB_ACTION_ALLOW);
    if (i % 50 == 49) {
      rule.mutable_device_id()->add_values(Hex4(0x8000 + u) + ":*");
      rule.mutable_when()->set_local_time("08:00-16:00");
    } else {
      rule.mutable_device_id()->add_values(Hex4(0x1000 + u / 16) + ":" + Hex4(u));
      rule.mutable_serial()->add_values("SN" + std::to_string(i));
    }
  }
  auto& apps = *policy.mutable_apps();
  apps.set_default_action(ward::v1::APP_ACTION_BLOCK);
  for (int i = 0; i < rules; ++i) {
    auto& rule = *apps.add_rules();
    rule.set_id("app-" + std::to_string(i));
    rule.set_action(i % 2 == 0 ? ward::v1::APP_ACTION_ALLOW : ward::v1::APP_ACTION_BLOCK);
    if (i % 10 != 9) {
      rule.set_sha256(DigestOf(i));
    } else if (i % 20 == 9) {
      rule.set_path("/opt/app" + std::to_string(i) + "/bin/run");
    } else {
      rule.set_package("pkg" + std::to_string(i));
    }
  }
  return policy;
}

// One signing key and, per size, the signed bundle; made once, outside the timings.
struct Fixture {
  SigningKey key;
  std::map<int, std::string> bundles;
  std::map<int, std::string> policy_bytes;
};

Fixture& GetFixture() {
  static Fixture* fixture = [] {
    auto key = SigningKey::Generate();
    if (!key) {
      std::abort();
    }
    return new Fixture{std::move(*key), {}, {}};
  }();
  return *fixture;
}

const std::string& Bundle(int rules) {
  Fixture& fixture = GetFixture();
  auto it = fixture.bundles.find(rules);
  if (it == fixture.bundles.end()) {
    const ward::v1::Policy policy = GeneratePolicy(rules);
    auto signed_policy = ward::policy::SignPolicy(policy, fixture.key);
    if (!signed_policy) {
      std::fprintf(stderr, "%s\n", signed_policy.error().ToString().c_str());
      std::abort();
    }
    fixture.policy_bytes[rules] = signed_policy->policy();
    it = fixture.bundles.emplace(rules, signed_policy->SerializeAsString()).first;
  }
  return it->second;
}

void SetCounters(benchmark::State& state, const std::string& bundle) {
  state.counters["rules"] = static_cast<double>(2 * state.range(0));
  state.counters["bundle_bytes"] = static_cast<double>(bundle.size());
}

// Everything an agent does with a pushed bundle: envelope, key id, Ed25519 signature, Policy
// parse, rollback check, ValidatePolicy.
void BM_LoadAndVerifyBundle(benchmark::State& state) {
  const std::string& bundle = Bundle(static_cast<int>(state.range(0)));
  const auto& key = GetFixture().key.public_key();
  for (auto _ : state) {
    auto policy = ward::policy::VerifySignedPolicyBytes(bundle, key, 41);
    if (!policy) {
      state.SkipWithError(policy.error().ToString().c_str());
      return;
    }
    benchmark::DoNotOptimize(policy);
  }
  SetCounters(state, bundle);
}

// The same up to the rollback check (a version in force above the bundle's stops it there):
// envelope + signature + Policy parse, without validation.
void BM_VerifySignatureAndParse(benchmark::State& state) {
  const std::string& bundle = Bundle(static_cast<int>(state.range(0)));
  const auto& key = GetFixture().key.public_key();
  for (auto _ : state) {
    auto policy = ward::policy::VerifySignedPolicyBytes(bundle, key,
                                                        std::numeric_limits<std::uint64_t>::max());
    benchmark::DoNotOptimize(policy);
  }
  SetCounters(state, bundle);
}

// Protobuf parsing of the policy bytes alone.
void BM_ParsePolicyBytes(benchmark::State& state) {
  const std::string& bundle = Bundle(static_cast<int>(state.range(0)));
  const std::string& bytes = GetFixture().policy_bytes.at(static_cast<int>(state.range(0)));
  for (auto _ : state) {
    ward::v1::Policy policy;
    benchmark::DoNotOptimize(policy.ParseFromString(bytes));
  }
  SetCounters(state, bundle);
}

// ValidatePolicy alone, on a parsed policy.
void BM_ValidatePolicy(benchmark::State& state) {
  const std::string& bundle = Bundle(static_cast<int>(state.range(0)));
  ward::v1::Policy policy;
  if (!policy.ParseFromString(GetFixture().policy_bytes.at(static_cast<int>(state.range(0))))) {
    state.SkipWithError("policy bytes do not parse");
    return;
  }
  for (auto _ : state) {
    auto issues = ward::policy::ValidatePolicy(policy);
    benchmark::DoNotOptimize(issues);
  }
  SetCounters(state, bundle);
}

// What `wardctl policy sign` spends after loading the JSON: validation, serialisation, signing.
void BM_SignPolicy(benchmark::State& state) {
  const std::string& bundle = Bundle(static_cast<int>(state.range(0)));
  const ward::v1::Policy policy = GeneratePolicy(static_cast<int>(state.range(0)));
  for (auto _ : state) {
    auto signed_policy = ward::policy::SignPolicy(policy, GetFixture().key);
    benchmark::DoNotOptimize(signed_policy);
  }
  SetCounters(state, bundle);
}

// N USB rules + N application rules: 5,000 + 5,000 is the 10,000-rule policy of the goal,
// 10,000 + 10,000 twice that.
#define WARD_POLICY_SIZES Arg(500)->Arg(5000)->Arg(10000)->Unit(benchmark::kMillisecond)
BENCHMARK(BM_LoadAndVerifyBundle)->WARD_POLICY_SIZES;
BENCHMARK(BM_VerifySignatureAndParse)->WARD_POLICY_SIZES;
BENCHMARK(BM_ParsePolicyBytes)->WARD_POLICY_SIZES;
BENCHMARK(BM_ValidatePolicy)->WARD_POLICY_SIZES;
BENCHMARK(BM_SignPolicy)->WARD_POLICY_SIZES;

}  // namespace

BENCHMARK_MAIN();
