// SPDX-License-Identifier: Apache-2.0
#include "ward/collector/server/config.h"

#include <algorithm>
#include <charconv>
#include <fstream>

namespace ward::collector {
namespace {

std::string Trim(std::string_view s) {
  const auto b = s.find_first_not_of(" \t\r");
  if (b == std::string_view::npos) {
    return {};
  }
  const auto e = s.find_last_not_of(" \t\r");
  return std::string(s.substr(b, e - b + 1));
}

template <typename T>
Result<T> Number(const ConfigValues& v, const std::string& key, T fallback) {
  if (!v.Has(key)) {
    return fallback;
  }
  const std::string text = v.Get(key);
  T out{};
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  if (ec != std::errc() || p != text.data() + text.size() || out < T{}) {
    return InvalidArgumentError("'" + key + "' must be a non-negative number, got '" + text + "'");
  }
  return out;
}

}  // namespace

const std::vector<std::pair<std::string_view, std::string_view>>& ServeConfigKeys() {
  static const std::vector<std::pair<std::string_view, std::string_view>> kKeys = {
      {"config", "config file to read first (key = value lines)"},
      {"data_dir", "directory made by `ward-collector init` (defaults for the keys below)"},
      {"listen", "address:port to serve on (default 127.0.0.1:8443)"},
      {"storage", "sqlite:<file> or postgresql:<libpq conninfo>"},
      {"tls_cert", "server certificate chain (PEM)"},
      {"tls_key", "server private key (PEM)"},
      {"workers", "handler threads (default 4)"},
      {"max_body_bytes", "largest request body accepted (default 8388608)"},
      {"max_events_per_batch", "largest event batch accepted (default 10000)"},
      {"max_connections", "open connections at most (default 20000)"},
      {"device_rate_per_second", "per-device sustained request rate (default 5)"},
      {"device_burst", "per-device burst (default 30)"},
      {"long_poll_max_seconds", "longest a policy fetch is held (default 30)"},
      {"log_level", "debug, info, warning or error (default info)"},
  };
  return kKeys;
}

Status ConfigValues::LoadFile(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) {
    return NotFoundError("cannot read config file " + path.string());
  }
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (const auto hash = line.find('#'); hash != std::string::npos) {
      line.resize(hash);
    }
    const std::string text = Trim(line);
    if (text.empty()) {
      continue;
    }
    const auto eq = text.find('=');
    if (eq == std::string::npos) {
      return InvalidArgumentError(path.string() + ":" + std::to_string(number) +
                                  ": expected `key = value`");
    }
    values_[Trim(text.substr(0, eq))] = Trim(text.substr(eq + 1));
  }
  return OkStatus();
}

Result<std::vector<std::string>> ConfigValues::ApplyFlags(std::span<const std::string> args) {
  std::vector<std::string> positional;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (!a.starts_with("--") || a == "--") {
      positional.push_back(a);
      continue;
    }
    std::string key = a.substr(2);
    std::string value;
    if (const auto eq = key.find('='); eq != std::string::npos) {
      value = key.substr(eq + 1);
      key.resize(eq);
    } else if (key == "help") {
      value = "1";
    } else if (i + 1 < args.size()) {
      value = args[++i];
    } else {
      return InvalidArgumentError("--" + key + " needs a value");
    }
    std::replace(key.begin(), key.end(), '-', '_');
    values_[key] = value;
  }
  return positional;
}

std::string ConfigValues::Get(const std::string& key, const std::string& fallback) const {
  auto it = values_.find(key);
  return it == values_.end() ? fallback : it->second;
}

std::vector<std::string> ConfigValues::Keys() const {
  std::vector<std::string> keys;
  for (const auto& [k, v] : values_) {
    keys.push_back(k);
  }
  return keys;
}

Result<ServeConfig> ResolveServeConfig(const ConfigValues& v) {
  ServeConfig c;
  const std::filesystem::path data_dir = v.Get("data_dir");
  const std::string listen = v.Get("listen", "127.0.0.1:8443");
  const auto colon = listen.rfind(':');
  if (colon == std::string::npos) {
    return InvalidArgumentError("'listen' must be address:port, got '" + listen + "'");
  }
  c.options.listen_address = listen.substr(0, colon);
  ConfigValues port_value;
  port_value.Set("port", listen.substr(colon + 1));
  WARD_ASSIGN_OR_RETURN(auto port, Number<unsigned>(port_value, "port", 8443));
  if (port > 65535) {
    return InvalidArgumentError("port " + std::to_string(port) + " is out of range");
  }
  c.options.port = static_cast<std::uint16_t>(port);
  c.storage_url =
      v.Get("storage", data_dir.empty() ? "" : "sqlite:" + (data_dir / "collector.db").string());
  if (c.storage_url.empty()) {
    return InvalidArgumentError("say where the store is: --storage or --data-dir");
  }
  c.options.tls_cert =
      v.Get("tls_cert", data_dir.empty() ? "" : (data_dir / "server.pem").string());
  c.options.tls_key = v.Get("tls_key", data_dir.empty() ? "" : (data_dir / "server.key").string());
  WARD_ASSIGN_OR_RETURN(c.options.worker_threads, Number<int>(v, "workers", 4));
  WARD_ASSIGN_OR_RETURN(c.options.max_body_bytes,
                        Number<std::size_t>(v, "max_body_bytes", c.options.max_body_bytes));
  WARD_ASSIGN_OR_RETURN(c.options.max_events_per_batch,
                        Number<std::size_t>(v, "max_events_per_batch", 10000));
  WARD_ASSIGN_OR_RETURN(c.options.max_connections,
                        Number<std::size_t>(v, "max_connections", 20000));
  WARD_ASSIGN_OR_RETURN(c.options.device_rate_per_second,
                        Number<double>(v, "device_rate_per_second", 5.0));
  WARD_ASSIGN_OR_RETURN(c.options.device_burst, Number<double>(v, "device_burst", 30.0));
  WARD_ASSIGN_OR_RETURN(auto long_poll, Number<long>(v, "long_poll_max_seconds", 30));
  c.options.long_poll_max = std::chrono::seconds(long_poll);
  c.log_level = v.Get("log_level", "info");
  return c;
}

}  // namespace ward::collector
