// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <memory>
#include <string>

#include "ward/collector/storage/storage.h"

namespace ward::collector {

// LISTENs on `channel` over its own libpq connection and calls `fn` with each notification's
// payload on a background thread. Reconnects with backoff when the connection drops, and then
// calls `fn("")` (anything may have changed while it was away). Stops when destroyed.
Result<std::unique_ptr<PolicyChangeSubscription>> StartPgListener(const std::string& conninfo,
                                                                  const std::string& channel,
                                                                  PolicyChangedFn fn);

}  // namespace ward::collector
