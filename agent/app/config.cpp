// SPDX-License-Identifier: Apache-2.0
#include "ward/app/config.h"

#include <algorithm>
#include <charconv>
#include <fstream>
#include <set>
#include <sstream>

#include "internal/os.h"

namespace ward::app {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

Result<bool> ParseBool(std::string_view v) {
  if (v == "on" || v == "true" || v == "yes") {
    return true;
  }
  if (v == "off" || v == "false" || v == "no") {
    return false;
  }
  return InvalidArgumentError("expected on or off, got '" + std::string(v) + "'");
}

Result<std::filesystem::path> ParsePath(std::string_view v) {
  if (!internal::IsAbsolutePath(v)) {
    return InvalidArgumentError("expected an absolute path, got '" + std::string(v) + "'");
  }
  return std::filesystem::path(v);
}

Result<std::vector<std::filesystem::path>> ParsePaths(std::string_view v) {
  std::vector<std::filesystem::path> out;
  while (!v.empty()) {
    const std::size_t comma = v.find(',');
    WARD_ASSIGN_OR_RETURN(auto path, ParsePath(Trim(v.substr(0, comma))));
    out.push_back(std::move(path));
    v = comma == std::string_view::npos ? std::string_view() : v.substr(comma + 1);
  }
  return out;
}

Result<std::chrono::milliseconds> ParseMillis(std::string_view v) {
  std::int64_t ms = 0;
  auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), ms);
  if (ec != std::errc() || ptr != v.data() + v.size() || ms < 10 || ms > 60'000) {
    return InvalidArgumentError("expected milliseconds between 10 and 60000, got '" +
                                std::string(v) + "'");
  }
  return std::chrono::milliseconds(ms);
}

Status Apply(AgentConfig& c, std::string_view key, std::string_view value) {
  if (key == "policy_bundle") {
    WARD_ASSIGN_OR_RETURN(c.policy_bundle, ParsePath(value));
  } else if (key == "policy_key") {
    WARD_ASSIGN_OR_RETURN(c.policy_key, ParsePath(value));
  } else if (key == "dev_policy_json") {
    WARD_ASSIGN_OR_RETURN(c.dev_policy_json, ParsePath(value));
  } else if (key == "ipc") {
    WARD_ASSIGN_OR_RETURN(c.ipc, ParseBool(value));
  } else if (key == "ipc_socket") {
    WARD_ASSIGN_OR_RETURN(c.ipc_socket, ParsePath(value));
  } else if (key == "status_file") {
    WARD_ASSIGN_OR_RETURN(c.status_file, ParsePath(value));
  } else if (key == "store") {
    WARD_ASSIGN_OR_RETURN(c.store, ParseBool(value));
  } else if (key == "state_dir") {
    WARD_ASSIGN_OR_RETURN(c.state_dir, ParsePath(value));
  } else if (key == "usb") {
    WARD_ASSIGN_OR_RETURN(c.usb, ParseBool(value));
  } else if (key == "sysfs_root") {
    WARD_ASSIGN_OR_RETURN(c.sysfs_root, ParsePath(value));
  } else if (key == "exec") {
    WARD_ASSIGN_OR_RETURN(c.exec, ParseBool(value));
  } else if (key == "exec_mounts") {
    WARD_ASSIGN_OR_RETURN(c.exec_mounts, ParsePaths(value));
  } else if (key == "exec_loaders") {
    WARD_ASSIGN_OR_RETURN(c.exec_loaders, ParsePaths(value));
  } else if (key == "exec_answer_within_ms") {
    WARD_ASSIGN_OR_RETURN(c.exec_answer_within, ParseMillis(value));
  } else if (key == "exec_kernel_cache") {
    WARD_ASSIGN_OR_RETURN(c.exec_kernel_cache, ParseBool(value));
  } else if (key == "packages") {
    WARD_ASSIGN_OR_RETURN(c.packages, ParseBool(value));
  } else if (key == "dpkg_root") {
    WARD_ASSIGN_OR_RETURN(c.dpkg_root, ParsePath(value));
  } else if (key == "dpkg_admindir") {
    WARD_ASSIGN_OR_RETURN(c.dpkg_admindir, ParsePath(value));
  } else if (key == "settings") {
    WARD_ASSIGN_OR_RETURN(c.settings, ParseBool(value));
  } else if (key == "settings_root") {
    WARD_ASSIGN_OR_RETURN(c.settings_root, ParsePath(value));
  } else if (key == "collector_url") {
    if (!value.starts_with("https://") || value.size() == 8 ||
        value.find_first_of(" \t\"'\\") != std::string_view::npos) {
      return InvalidArgumentError("expected an https:// URL, got '" + std::string(value) + "'");
    }
    c.collector_url = std::string(value);
  } else if (key == "collector_ca") {
    WARD_ASSIGN_OR_RETURN(c.collector_ca, ParsePath(value));
  } else if (key == "enrolment_secret_file") {
    WARD_ASSIGN_OR_RETURN(c.enrolment_secret_file, ParsePath(value));
  } else if (key == "machine_id_file") {
    WARD_ASSIGN_OR_RETURN(c.machine_id_file, ParsePath(value));
  } else if (key == "learner_group") {
    if (value.empty() || value.find_first_of(" \t\"'\\") != std::string_view::npos) {
      return InvalidArgumentError("expected a group name, got '" + std::string(value) + "'");
    }
    c.learner_group = std::string(value);
  } else {
    return InvalidArgumentError("unknown key '" + std::string(key) + "'");
  }
  return OkStatus();
}

}  // namespace

std::string ConfigHelp() {
  return R"(Configuration keys (key = value, # starts a comment):
  policy_bundle = /var/lib/ward/policy.bundle signed policy (read at start and on SIGHUP)
  policy_key = /etc/ward/policy.pub          the pinned public key policies must be signed with
  dev_policy_json =                          DEVELOPMENT ONLY: an unsigned JSON policy instead
  ipc = on                                   the tray's local socket
  ipc_socket = /run/ward/agent.sock          where it listens (directory 0755, root-owned)
  status_file = /run/ward/agent.status       written by the agent, read by `ward-agent status`
  store = on                                 encrypted event store (off: events to the journal)
  state_dir = /var/lib/ward                  the store (events.db) and its key (store.key)
  usb = on                                   USB enforcement
  sysfs_root = /sys                          where sysfs is mounted
  exec = on                                  application allowlist (fanotify)
  exec_mounts = /                            comma-separated mounts whose programs are checked
  exec_loaders = /lib64/ld-linux-x86-64.so.2 dynamic loaders that may not be run directly
  exec_answer_within_ms = 3000               every exec is answered within this time
  exec_kernel_cache = on                     the kernel answers allowed programs again itself
  packages = on                              package rules: dpkg provenance (content-checked)
  dpkg_root = /                              the system dpkg's records describe
  dpkg_admindir =                            dpkg's database (empty: <dpkg_root>/var/lib/dpkg)
  settings = on                              dconf/polkit lock-down, with drift revert
  settings_root = /                          prefix for /etc/dconf and /etc/polkit-1
  learner_group = ward-learners              the polkit rules apply to this group
  collector_url =                            https://host:port of the collector (empty: no sync)
  collector_ca =                             the site CA (PEM); only it is trusted
  enrolment_secret_file =                    file holding the enrolment secret (root-only)
  machine_id_file = /etc/machine-id          hashed (HMAC, app-specific) to recognise a reinstall
)";
}

namespace {

// Applies the `key = value` lines of one file (a key may appear once per file).
Status ParseInto(AgentConfig& config, std::string_view text) {
  std::set<std::string, std::less<>> seen;
  int number = 0;
  while (!text.empty()) {
    ++number;
    const std::size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
    if (const std::size_t hash = line.find('#'); hash != std::string_view::npos) {
      line = line.substr(0, hash);
    }
    line = Trim(line);
    if (line.empty()) {
      continue;
    }
    const std::string where = "line " + std::to_string(number) + ": ";
    const std::size_t eq = line.find('=');
    if (eq == std::string_view::npos) {
      return InvalidArgumentError(where + "expected key = value");
    }
    const std::string_view key = Trim(line.substr(0, eq));
    const std::string_view value = Trim(line.substr(eq + 1));
    if (!seen.emplace(key).second) {
      return InvalidArgumentError(where + "'" + std::string(key) + "' is set twice");
    }
    auto applied = Apply(config, key, value);
    if (!applied.has_value()) {
      return std::unexpected(
          std::move(applied).error().WithContext(where.substr(0, where.size() - 2)));
    }
  }
  return OkStatus();
}

// The rules between keys, checked once every file is read.
Status Validate(const AgentConfig& config) {
  if (!config.collector_url.empty() &&
      (config.collector_ca.empty() || config.enrolment_secret_file.empty())) {
    return InvalidArgumentError(
        "collector_url needs collector_ca and enrolment_secret_file to be set too");
  }
  if (config.collector_url.empty() &&
      (!config.collector_ca.empty() || !config.enrolment_secret_file.empty())) {
    return InvalidArgumentError(
        "collector_ca and enrolment_secret_file are used only with collector_url");
  }
  return OkStatus();
}

Status ParseFileInto(AgentConfig& config, const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) {
    return NotFoundError("cannot read config file " + path.string());
  }
  std::stringstream text;
  text << in.rdbuf();
  auto parsed = ParseInto(config, text.str());
  if (!parsed.has_value()) {
    return std::unexpected(std::move(parsed).error().WithContext(path.string()));
  }
  return OkStatus();
}

}  // namespace

Result<AgentConfig> ParseConfig(std::string_view text) {
  AgentConfig config = internal::DefaultAgentConfig();
  WARD_RETURN_IF_ERROR(ParseInto(config, text));
  WARD_RETURN_IF_ERROR(Validate(config));
  return config;
}

std::filesystem::path ConfigDropInDir(const std::filesystem::path& path) {
  return path.string() + ".d";
}

Result<AgentConfig> LoadConfig(const std::filesystem::path& path) {
  AgentConfig config = internal::DefaultAgentConfig();
  WARD_RETURN_IF_ERROR(ParseFileInto(config, path));
  std::vector<std::filesystem::path> drop_ins;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(ConfigDropInDir(path), ec)) {
    if (entry.path().extension() == ".conf" && entry.is_regular_file(ec)) {
      drop_ins.push_back(entry.path());
    }
  }
  std::sort(drop_ins.begin(), drop_ins.end());
  for (const auto& drop_in : drop_ins) {
    WARD_RETURN_IF_ERROR(ParseFileInto(config, drop_in));
  }
  auto valid = Validate(config);
  if (!valid.has_value()) {
    return std::unexpected(std::move(valid).error().WithContext(path.string()));
  }
  return config;
}

}  // namespace ward::app
