// SPDX-License-Identifier: Apache-2.0
// Shared by the store benchmarks: argument parsing, percentiles, scratch directories.
// Header-only so the plain-SQLite binary links nothing of the store.
#pragma once

#include <stdlib.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

namespace ward::bench {

inline std::uint64_t ArgOr(int argc, char** argv, const char* name, std::uint64_t fallback) {
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], name) == 0) {
      return std::strtoull(argv[i + 1], nullptr, 10);
    }
  }
  return fallback;
}

inline std::string StrArgOr(int argc, char** argv, const char* name, const char* fallback) {
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], name) == 0) {
      return argv[i + 1];
    }
  }
  return fallback;
}

// A new directory under `base` (default $TMPDIR or /var/tmp: a real disk, not tmpfs).
inline std::filesystem::path ScratchDir(const std::string& base_arg) {
  std::string base = base_arg;
  if (base.empty()) {
    const char* env = std::getenv("TMPDIR");
    base = env != nullptr ? env : "/var/tmp";
  }
  std::string tmpl = base + "/ward-bench-XXXXXX";
  if (::mkdtemp(tmpl.data()) == nullptr) {
    std::perror("mkdtemp");
    std::exit(1);
  }
  return tmpl;
}

inline double Percentile(std::vector<double> values, double p) {
  if (values.empty()) {
    return 0;
  }
  std::sort(values.begin(), values.end());
  auto index = static_cast<std::size_t>(p * static_cast<double>(values.size() - 1) + 0.5);
  return values[std::min(index, values.size() - 1)];
}

// A 36-character id like a UUIDv7's canonical form, increasing with n.
inline std::string BenchId(std::uint64_t n) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%08llx-0000-7000-8000-%012llx",
                static_cast<unsigned long long>(n >> 20),
                static_cast<unsigned long long>(n & 0xffffffffffffULL));
  return buf;
}

}  // namespace ward::bench
