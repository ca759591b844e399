// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <filesystem>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ward/collector/server/alerts.h"
#include "ward/collector/server/collector.h"
#include "ward/common/result.h"

namespace ward::collector {

// Settings as text: `key = value` lines from a file, then `--key value` flags on top (a flag
// `--tls-cert` sets `tls_cert`). Value type.
class ConfigValues {
 public:
  // Reads a config file: one `key = value` per line; `#` starts a comment. kInvalidArgument
  // names the line of a malformed entry.
  Status LoadFile(const std::filesystem::path& path);
  // Applies `--key value` / `--key=value` flags; anything else is returned as positional.
  Result<std::vector<std::string>> ApplyFlags(std::span<const std::string> args);
  void Set(const std::string& key, std::string value) { values_[key] = std::move(value); }
  std::string Get(const std::string& key, const std::string& fallback = "") const;
  bool Has(const std::string& key) const { return values_.contains(key); }
  std::vector<std::string> Keys() const;

 private:
  std::map<std::string, std::string> values_;
};

// The collector's settings resolved from config values. `data_dir` supplies defaults:
// storage sqlite:<data_dir>/collector.db, tls <data_dir>/server.pem and server.key.
struct ServeConfig {
  CollectorOptions options;
  std::string storage_url;
  std::string log_level = "info";
  AlertConfig alerts;  // no channel: new concerns are only logged
};

// kInvalidArgument for malformed values, naming the key. Unknown keys are ignored here (the
// admin subcommands add their own); `ward-collector serve` refuses them.
Result<ServeConfig> ResolveServeConfig(const ConfigValues& values);

// The keys ResolveServeConfig understands, with a one-line description each (for --help).
const std::vector<std::pair<std::string_view, std::string_view>>& ServeConfigKeys();

}  // namespace ward::collector
