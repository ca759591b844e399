// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <mutex>
#include <span>

namespace ward {

// Source of randomness, injected so tests are repeatable. Implementations are thread-safe.
// Not for key material: keys come from OpenSSL's CSPRNG at the point of use.
class Random {
 public:
  virtual ~Random() = default;
  virtual void Fill(std::span<std::uint8_t> out) = 0;
  std::uint64_t NextU64();
};

// The operating system's random source. Lives for the whole process.
Random& SystemRandom();

// A deterministic generator (splitmix64) for tests. Thread-safe: concurrent callers get
// disjoint parts of one deterministic stream.
class SeededRandom final : public Random {
 public:
  explicit SeededRandom(std::uint64_t seed) : state_(seed) {}
  void Fill(std::span<std::uint8_t> out) override;

 private:
  std::mutex mu_;
  std::uint64_t state_;  // guarded by mu_
};

}  // namespace ward
