// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <span>

#include "internal/router.h"

namespace ward::collector::internal {

// The role table: every route the collector serves and who may call it, in one place. The
// router refuses a route that is not listed here and a row nobody serves; docs/collector.md
// states the same table and a test checks the two agree. Change both together.
std::span<const AccessRule> AccessTable();

}  // namespace ward::collector::internal
