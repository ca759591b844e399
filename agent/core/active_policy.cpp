// SPDX-License-Identifier: Apache-2.0
#include "ward/core/active_policy.h"

namespace ward::core {

Result<std::shared_ptr<const ActivePolicy>> ActivePolicy::Compile(v1::Policy policy) {
  auto active = std::make_shared<ActivePolicy>();
  WARD_ASSIGN_OR_RETURN(active->usb, policy::UsbEvaluator::Create(policy));
  WARD_ASSIGN_OR_RETURN(active->apps, policy::AppEvaluator::Create(policy));
  active->policy = std::move(policy);
  return std::shared_ptr<const ActivePolicy>(std::move(active));
}

}  // namespace ward::core
