// SPDX-License-Identifier: Apache-2.0
// The answers every unit shares: protobuf and JSON bodies, and errors in each unit's style.
#include "internal/responses.h"

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Stringifier.h>

#include <sstream>

#include "ward/v1/sync.pb.h"

namespace ward::collector::internal {

std::string_view StatusCodeName(int status) {
  switch (status) {
    case 400:
      return "INVALID_ARGUMENT";
    case 401:
      return "UNAUTHENTICATED";
    case 403:
      return "PERMISSION_DENIED";
    case 404:
      return "NOT_FOUND";
    case 405:
      return "UNIMPLEMENTED";
    case 409:
      return "FAILED_PRECONDITION";
    case 413:
    case 429:
      return "RESOURCE_EXHAUSTED";
    case 503:
      return "UNAVAILABLE";
    default:
      return "INTERNAL";
  }
}

int HttpStatusFor(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidArgument:
      return 400;
    case ErrorCode::kUnauthenticated:
      return 401;
    case ErrorCode::kPermissionDenied:
      return 403;
    case ErrorCode::kNotFound:
      return 404;
    case ErrorCode::kAlreadyExists:
    case ErrorCode::kFailedPrecondition:
      return 409;
    case ErrorCode::kResourceExhausted:
      return 429;
    case ErrorCode::kUnavailable:
      return 503;
    default:
      return 500;
  }
}

HttpResponse Proto(const google::protobuf::MessageLite& message, int status) {
  HttpResponse r;
  r.status = status;
  r.body = message.SerializeAsString();
  return r;
}

HttpResponse Json(const Poco::Dynamic::Var& value, int status) {
  HttpResponse r;
  r.status = status;
  r.content_type = "application/json";
  std::ostringstream out;
  Poco::JSON::Stringifier::stringify(value, out);
  r.body = out.str();
  r.body += "\n";
  return r;
}

HttpResponse ErrorResponse(ErrorStyle style, int status, std::string_view message) {
  switch (style) {
    case ErrorStyle::kProtobuf: {
      ward::v1::ErrorBody body;
      body.set_code(std::string(StatusCodeName(status)));
      body.set_message(std::string(message));
      return Proto(body, status);
    }
    case ErrorStyle::kJson: {
      Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
      o->set("code", std::string(StatusCodeName(status)));
      o->set("message", std::string(message));
      return Json(o, status);
    }
    case ErrorStyle::kText:
      break;
  }
  HttpResponse r;
  r.status = status;
  r.content_type = "text/plain; charset=utf-8";
  r.body = std::string(message) + "\n";
  return r;
}

HttpResponse ErrorResponse(ErrorStyle style, const Error& error) {
  return ErrorResponse(style, HttpStatusFor(error.code()), error.message());
}

HttpResponse TooManyRequests(ErrorStyle style, std::chrono::milliseconds wait,
                             std::string_view message) {
  HttpResponse r = ErrorResponse(style, 429, message);
  r.headers.emplace_back("Retry-After", std::to_string((wait.count() + 999) / 1000));
  return r;
}

std::string PeerAddress(const HttpRequest& request) {
  const std::size_t colon = request.peer.rfind(':');
  return colon == std::string::npos ? request.peer : request.peer.substr(0, colon);
}

}  // namespace ward::collector::internal
