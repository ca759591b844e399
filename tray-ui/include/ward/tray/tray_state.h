// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <QIcon>
#include <QString>

#include "ward/v1/ipc.pb.h"
#include "ward/v1/policy.pb.h"

namespace ward::tray {

// What the tray icon says at a glance.
enum class TrayState { kProtected, kOffline, kNeedsAttention, kNotRunning };

TrayState StateFromStatus(const v1::StatusResponse& status);

// A shield drawn in code: green with a tick, grey with a dash, amber with "!". Each state also
// differs in shape, not only colour, for learners who cannot tell the colours apart.
QIcon StateIcon(TrayState state);

// One short sentence for the tooltip and the fallback window.
QString StateText(TrayState state);

// A notice as the learner reads it.
struct NoticeText {
  QString title;
  QString body;
};

// Turns a notice into plain words, with the policy's own message and who to ask (`contacts`
// may be empty when the policy has not been read yet). Empty title: nothing to show.
NoticeText FormatNotice(const v1::Notice& notice, const v1::Contacts& contacts);

// "Ask Sam Patel (safeguarding@example.org) or IT help desk, room B12." or empty.
QString WhoToAsk(const v1::Contacts& contacts);

}  // namespace ward::tray
