// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <google/protobuf/message_lite.h>

#include <Poco/Dynamic/Var.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "internal/http_server.h"
#include "ward/common/error.h"

namespace ward::collector::internal {

// How a unit writes its errors: the device API answers a ward.v1.ErrorBody (the agent shows and
// logs its reason), the staff API a JSON object {"code", "message"}, plain routes text.
enum class ErrorStyle : std::uint8_t { kProtobuf, kJson, kText };

// The HTTP status for a canonical error code (kNotFound -> 404, kUnavailable -> 503, ...).
int HttpStatusFor(ErrorCode code);
// The canonical code name an error body carries for an HTTP status ("PERMISSION_DENIED").
std::string_view StatusCodeName(int status);

HttpResponse Proto(const google::protobuf::MessageLite& message, int status = 200);
// Stringified JSON with a trailing newline, Content-Type application/json.
HttpResponse Json(const Poco::Dynamic::Var& value, int status = 200);
// An error in `style` with a one-sentence `message` for the caller.
HttpResponse ErrorResponse(ErrorStyle style, int status, std::string_view message);
HttpResponse ErrorResponse(ErrorStyle style, const Error& error);
// 429 with `message` and Retry-After: `wait` rounded up to whole seconds.
HttpResponse TooManyRequests(ErrorStyle style, std::chrono::milliseconds wait,
                             std::string_view message);

// The address of the request's peer, without its port ("10.0.0.5" of "10.0.0.5:51234").
std::string PeerAddress(const HttpRequest& request);

}  // namespace ward::collector::internal
