// SPDX-License-Identifier: Apache-2.0
#include "ward/policy/summary.h"

#include <algorithm>

#include "internal/format.h"
#include "ward/policy/settings_catalog.h"
#include "ward/policy/usb_evaluator.h"

namespace ward::policy {
namespace {

using internal::Format;

enum class Sometimes { kNever, kSometimes, kAlways };

// Whether an ordinary memory stick nobody has approved is blocked, trying every half hour of the
// day (rules may have time windows).
Sometimes StorageBlocked(const UsbEvaluator& usb) {
  UsbDeviceInfo stick;
  stick.vendor_id = 0xffff;
  stick.product_id = 0xfffe;
  stick.name = "USB memory stick";
  stick.connect_type = "hotplug";
  stick.interfaces = {{0x08, 0x06, 0x50, 0}};
  int blocked = 0;
  int tries = 0;
  for (int minute = 0; minute < 24 * 60; minute += 30, ++tries) {
    const UsbDecision d = usb.Evaluate(stick, {minute / 60, minute % 60});
    blocked += d.AnyBlocked() ? 1 : 0;
  }
  return blocked == 0       ? Sometimes::kNever
         : blocked == tries ? Sometimes::kAlways
                            : Sometimes::kSometimes;
}

bool AllowsNamedDevices(const ward::v1::UsbPolicy& usb) {
  return std::ranges::any_of(usb.rules(), [](const ward::v1::UsbRule& r) {
    return r.action() == ward::v1::USB_ACTION_ALLOW && UsbEvaluator::NamesDeviceExplicitly(r);
  });
}

void AddUsb(const ward::v1::Policy& policy, std::vector<std::string>& lines) {
  auto usb = UsbEvaluator::Create(policy);
  if (usb) {
    switch (StorageBlocked(**usb)) {
      case Sometimes::kAlways:
        lines.emplace_back(AllowsNamedDevices(policy.usb())
                               ? "USB memory sticks are blocked, except ones the college has "
                                 "approved."
                               : "USB memory sticks are blocked.");
        break;
      case Sometimes::kSometimes:
        lines.emplace_back("USB memory sticks only work at certain times of day.");
        break;
      case Sometimes::kNever:
        lines.emplace_back("USB memory sticks work.");
        break;
    }
  }
  lines.emplace_back("Keyboards and mice always work.");
}

void AddApps(const ward::v1::AppPolicy& apps, std::vector<std::string>& lines) {
  const bool any_block = std::ranges::any_of(apps.rules(), [](const ward::v1::AppRule& r) {
    return r.action() == ward::v1::APP_ACTION_BLOCK;
  });
  if (apps.default_action() == ward::v1::APP_ACTION_BLOCK) {
    lines.emplace_back("Only approved programs can run.");
  } else if (any_block) {
    lines.emplace_back("Some programs are blocked.");
  }
  if (!apps.restricted_interpreters().empty()) {
    std::string names;
    for (int i = 0; i < apps.restricted_interpreters_size() && i < 3; ++i) {
      std::string_view entry = apps.restricted_interpreters(i);
      entry = entry.substr(entry.find_last_of("/\\") + 1);  // npos + 1 == 0
      names += Format("{}{}", names.empty() ? "" : ", ", entry);
    }
    lines.push_back(Format("Some programming tools ({}) can't be started.", names));
  }
}

void AddSettings(const ward::v1::SettingsPolicy& settings, std::vector<std::string>& lines) {
  for (const auto& lock : settings.settings()) {
    const SettingInfo* info = FindSetting(lock.name());
    if (!lock.locked() || info == nullptr) {
      continue;
    }
    const bool locked_true = info->type == SettingType::kBool && lock.bool_value();
    const std::string_view sentence =
        locked_true ? info->locked_true_sentence : info->locked_sentence;
    if (!sentence.empty() && std::ranges::find(lines, sentence) == lines.end()) {
      lines.emplace_back(sentence);
    }
  }
}

void AddContacts(const ward::v1::Contacts& contacts, std::vector<std::string>& lines) {
  lines.emplace_back(
      "If something online worries you, use \"Report a concern\". It goes to the safeguarding "
      "team.");
  if (contacts.dsl_name().empty()) {
    return;
  }
  std::string how;
  if (!contacts.dsl_email().empty()) {
    how = Format(" at {}", contacts.dsl_email());
  } else if (!contacts.dsl_phone().empty()) {
    how = Format(" on {}", contacts.dsl_phone());
  }
  lines.push_back(
      Format("You can also talk to {}, who looks after safeguarding{}.", contacts.dsl_name(), how));
}

}  // namespace

std::vector<std::string> SummarizeForLearner(const ward::v1::Policy& policy) {
  std::vector<std::string> lines;
  if (policy.mode() == ward::v1::MODE_MONITOR) {
    lines.emplace_back("Right now Ward is only watching, not blocking.");
  }
  AddUsb(policy, lines);
  AddApps(policy.apps(), lines);
  AddSettings(policy.settings(), lines);
  AddContacts(policy.contacts(), lines);
  return lines;
}

}  // namespace ward::policy
