// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstddef>
#include <string>

#include "ward/common/random.h"
#include "ward/common/result.h"
#include "ward/v1/ipc.pb.h"

// Checks on a learner's concern and its reference code. Pure; thread-safe. Kept apart from the
// service so the fuzzer (tests/fuzz/concern_fuzzer.cpp) builds it without the agent's graph.
namespace ward::app {

inline constexpr std::size_t kMaxConcernTextChars = 4000;
inline constexpr std::size_t kMaxScreenshotBytes = std::size_t{4} << 20;

// Checks a concern before anything is stored. kInvalidArgument with a message that is kind,
// specific and safe to show the learner (nothing said, text too long, screenshot not a PNG or
// too big). A missing category is not an error (it is recorded as "something else"). Text length
// counts characters (UTF-8 code points), not bytes.
Status ValidateConcern(const v1::SubmitConcernRequest& request);

// A reference the learner can read out: 8 characters from an alphabet without look-alikes
// (no 0/O, 1/I/L), as "K7QF-2M9X".
std::string MakeConcernReference(Random& random);

}  // namespace ward::app
