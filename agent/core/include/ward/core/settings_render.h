// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "ward/common/result.h"
#include "ward/platform/settings_control.h"
#include "ward/v1/policy.pb.h"

namespace ward::core {

using platform::ManagedFile;

// Ward's dconf and polkit files for a policy's settings, from the settings catalogue:
//   etc/dconf/profile/user                 user-db:user + system-db:ward
//   etc/dconf/db/ward.d/00-ward            keyfile: every dconf key of every setting
//   etc/dconf/db/ward.d/locks/00-ward      the keys of locked settings
//   etc/polkit-1/rules.d/49-ward.rules     denies the catalogue's polkit actions of locked bool
//                                          settings set to false, to members of `learner_group`
// Values are rendered as GVariant text; strings with control characters are refused
// (kInvalidArgument), so no value can inject keyfile lines or JavaScript; the group must be a
// plain group name ([a-z_][a-z0-9_-]*). Pure.
Result<std::vector<ManagedFile>> RenderSettings(const v1::SettingsPolicy& settings,
                                                const std::string& learner_group);

}  // namespace ward::core
