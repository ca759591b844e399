// SPDX-License-Identifier: Apache-2.0
#include "ward/collector/server/concern_alerter.h"

#include "ward/common/log.h"

namespace ward::collector {

void LogConcernAlerter::OnNewConcern(const ConcernAlert& alert) {
  log::Warning("new concern", {{"concern_id", alert.concern_id},
                               {"reference", alert.reference},
                               {"urgent", alert.in_danger}});
}

}  // namespace ward::collector
