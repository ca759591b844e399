// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <memory>

#include "ward/common/result.h"
#include "ward/policy/app_evaluator.h"
#include "ward/policy/usb_evaluator.h"
#include "ward/v1/policy.pb.h"

namespace ward::core {

// A verified policy compiled for the enforcers. Immutable, shared between enforcer threads as
// std::shared_ptr<const ActivePolicy>; a reload swaps the pointer.
struct ActivePolicy {
  v1::Policy policy;
  std::unique_ptr<policy::UsbEvaluator> usb;
  std::unique_ptr<policy::AppEvaluator> apps;

  bool enforce() const { return policy.mode() == v1::MODE_ENFORCE; }

  // Compiles a policy that passed ValidatePolicy. kInvalidArgument otherwise.
  static Result<std::shared_ptr<const ActivePolicy>> Compile(v1::Policy policy);
};

}  // namespace ward::core
