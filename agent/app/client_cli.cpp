// SPDX-License-Identifier: Apache-2.0
#include "ward/app/client_cli.h"

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string_view>
#include <utility>

#include "ward/agent/ipc/ipc_client.h"
#include "ward/app/agent.h"
#include "ward/app/config.h"

namespace ward::app {
namespace {

constexpr std::pair<std::string_view, v1::ConcernCategory> kCategories[] = {
    {"bullying", v1::CONCERN_CATEGORY_BULLYING},
    {"uncomfortable-contact", v1::CONCERN_CATEGORY_UNCOMFORTABLE_CONTACT},
    {"harmful-content", v1::CONCERN_CATEGORY_HARMFUL_CONTENT},
    {"extremist-content", v1::CONCERN_CATEGORY_EXTREMIST_CONTENT},
    {"account-compromised", v1::CONCERN_CATEGORY_ACCOUNT_COMPROMISED},
    {"other", v1::CONCERN_CATEGORY_OTHER},
};

int Usage(const char* why) {
  std::fprintf(stderr, "ward-agent concern: %s (try ward-agent --help)\n", why);
  return 2;
}

}  // namespace

int RunConcernCommand(int argc, char** argv, std::string config_path) {
  v1::SubmitConcernRequest request;
  for (int i = 0; i < argc; ++i) {
    const std::string_view arg = argv[i];
    const bool has_value = i + 1 < argc;
    if (arg == "--anonymous") {
      request.set_anonymous(true);
    } else if (arg == "--in-danger") {
      request.set_in_danger(true);
    } else if (arg == "--text" && has_value) {
      request.set_text(argv[++i]);
    } else if (arg == "--config" && has_value) {
      config_path = argv[++i];
    } else if (arg == "--category" && has_value) {
      const std::string_view name = argv[++i];
      bool found = false;
      for (const auto& [n, category] : kCategories) {
        if (n == name) {
          request.set_category(category);
          found = true;
        }
      }
      if (!found) {
        return Usage(
            "unknown category (bullying, uncomfortable-contact, harmful-content, "
            "extremist-content, account-compromised, other)");
      }
    } else if (arg == "--screenshot" && has_value) {
      std::ifstream in(argv[++i], std::ios::binary);
      if (!in) {
        return Usage("cannot read the screenshot file");
      }
      std::stringstream bytes;
      bytes << in.rdbuf();
      request.set_screenshot_png(bytes.str());
    } else {
      return Usage("unknown or incomplete argument");
    }
  }
  auto config = LoadConfig(config_path);
  if (!config.has_value()) {
    std::fprintf(stderr, "ward-agent concern: %s\n", config.error().ToString().c_str());
    return 2;
  }
  auto client = agent::ipc::IpcClient::Connect({.endpoint = config->ipc_socket});
  if (!client.has_value()) {
    std::fprintf(stderr, "ward-agent concern: cannot reach the agent at %s: %s\n",
                 config->ipc_socket.string().c_str(), client.error().ToString().c_str());
    return 1;
  }
  auto sent = (*client)->SubmitConcern({}, request);
  if (!sent.has_value()) {
    std::fprintf(stderr, "ward-agent concern: %s\n", sent.error().message().c_str());
    return 1;
  }
  std::printf("Thank you. Your report is saved on this laptop. Reference: %s (event %s)\n",
              sent->reference().c_str(), sent->event_id().c_str());
  return 0;
}

int RunCheckConfig(const AgentConfig& config) {
  auto policy = CheckPolicy(config);
  if (!policy.has_value()) {
    std::fprintf(stderr, "ward-agent: %s\n", policy.error().ToString().c_str());
    return 1;
  }
  if (auto sync = CheckSync(config); !sync.has_value()) {
    std::fprintf(stderr, "ward-agent: sync: %s\n", sync.error().ToString().c_str());
    return 1;
  }
  std::printf(
      "configuration OK; policy version %llu (%s)%s\n",
      static_cast<unsigned long long>(policy->version()),
      policy->mode() == v1::MODE_ENFORCE ? "enforce" : "monitor",
      config.dev_policy_json.empty() ? ", signature verified" : ", UNSIGNED (development only)");
  return 0;
}

}  // namespace ward::app
