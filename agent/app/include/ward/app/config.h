// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <chrono>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "ward/common/result.h"

namespace ward::app {

// ward-agent's configuration (/etc/ward/agent.conf and /etc/ward/agent.conf.d/*.conf): one
// `key = value` per line, `#` comments.
// Value type.
struct AgentConfig {
  // The signed policy bundle (v1::SignedPolicy bytes) placed by the installer or IT, read at
  // start and on every SIGHUP; verified with the pinned `policy_key`. The policy in force is
  // kept in state_dir/policy-in-force.bundle (root-only), so a restart keeps it and an older
  // bundle is refused (rollback protection survives restarts).
  std::filesystem::path policy_bundle = "/var/lib/ward/policy.bundle";
  std::filesystem::path policy_key = "/etc/ward/policy.pub";
  // Development and tests only: an UNSIGNED policy (protobuf JSON mapping) used instead of the
  // bundle. Nothing is verified or kept; the agent reports "needs attention" while it is set.
  std::filesystem::path dev_policy_json;
  // Where `ward-agent status` reads what the running agent writes.
  std::filesystem::path status_file = "/run/ward/agent.status";
  // Events go to the encrypted store in `state_dir` (events.db, key file store.key); off:
  // one journal line per event instead.
  bool store = true;
  std::filesystem::path state_dir = "/var/lib/ward";
  bool usb = true;
  std::filesystem::path sysfs_root = "/sys";
  bool exec = true;
  // Mounts whose execs are checked, and the dynamic loaders whose direct runs are refused.
  std::vector<std::filesystem::path> exec_mounts = {"/"};
  std::vector<std::filesystem::path> exec_loaders = {"/lib64/ld-linux-x86-64.so.2"};
  std::chrono::milliseconds exec_answer_within{3000};
  // Allowed programs no learner can write are answered by the kernel itself (an ignore mark)
  // until they are written or the policy changes: no wake-up of the agent per run.
  bool exec_kernel_cache = true;
  // Package provenance for `package` rules (with exec): dpkg's records of the system at
  // `dpkg_root`, from `dpkg_admindir` (empty: <dpkg_root>/var/lib/dpkg). Off, or without a dpkg
  // database (reported as degraded), package rules never match.
  bool packages = true;
  std::filesystem::path dpkg_root = "/";
  std::filesystem::path dpkg_admindir;
  // Settings lock-down: dconf and polkit files below `settings_root`, denied to this group.
  bool settings = true;
  std::filesystem::path settings_root = "/";
  std::string learner_group = "ward-learners";
  // The tray's local socket (its directory is created 0755, owned by the agent's user).
  bool ipc = true;
  std::filesystem::path ipc_socket = "/run/ward/agent.sock";
  // Sync to the collector; off while collector_url is empty. Needs the store, the site CA
  // (only it is trusted) and the enrolment secret (a root-only file). Pushed policies are
  // verified with `policy_key`.
  std::string collector_url;
  std::filesystem::path collector_ca;
  std::filesystem::path enrolment_secret_file;
  // Read to make the pseudonymous machine hash the collector uses to recognise a reinstall.
  std::filesystem::path machine_id_file = "/etc/machine-id";
};

// The keys, their meaning and defaults, for --help.
std::string ConfigHelp();

// Parses config text. Errors (kInvalidArgument) name the line: "line 3: unknown key 'usbb'".
// Unknown keys, repeated keys, bad booleans/numbers and relative paths are errors.
Result<AgentConfig> ParseConfig(std::string_view text);

// Reads and parses a config file, then every `*.conf` file in its drop-in directory
// (ConfigDropInDir: "/etc/ward/agent.conf.d") in name order; a drop-in may set a key the files
// before it set (the last one wins). A missing file is kNotFound; a missing directory is fine.
Result<AgentConfig> LoadConfig(const std::filesystem::path& path);

// "<path>.d": where packages and `ward-agent enrol` put settings without editing `path` itself
// (a conffile IT may have changed).
std::filesystem::path ConfigDropInDir(const std::filesystem::path& path);

}  // namespace ward::app
