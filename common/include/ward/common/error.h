// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <expected>
#include <string>
#include <string_view>

namespace ward {

// Canonical error codes. Callers branch on the code, people read the message.
enum class ErrorCode : std::uint8_t {
  kInvalidArgument,     // the input is malformed or breaks a rule; retrying will not help
  kNotFound,            // a named thing does not exist
  kAlreadyExists,       // a thing that must be unique exists already
  kPermissionDenied,    // the caller may not do this
  kUnauthenticated,     // the caller's identity is missing or not accepted
  kFailedPrecondition,  // the system is not in a state that allows this (e.g. policy rollback)
  kUnavailable,         // transient: try again later (network down, busy)
  kDeadlineExceeded,    // a bounded wait ran out
  kResourceExhausted,   // out of space, quota or rate
  kDataLoss,            // stored data is corrupt or unreadable
  kUnsupported,         // valid, but this build or platform cannot do it
  kInternal,            // a bug or an unexpected state of a dependency
};

// Stable upper-case name of a code, e.g. "INVALID_ARGUMENT".
std::string_view ErrorCodeName(ErrorCode code);

// An error: a canonical code, a human message with context, and the native OS code (errno,
// GetLastError()) when one caused it. Value type; thread-compatible.
class Error {
 public:
  Error(ErrorCode code, std::string message, std::int64_t os_code = 0)
      : code_(code), message_(std::move(message)), os_code_(os_code) {}

  ErrorCode code() const { return code_; }
  const std::string& message() const { return message_; }
  std::int64_t os_code() const { return os_code_; }

  // Prefixes the message with what was being done: "loading policy: <message>".
  Error WithContext(std::string_view context) const&;
  Error WithContext(std::string_view context) &&;

  // "INVALID_ARGUMENT: loading policy: ..." (plus " (os error N)" when os_code is set).
  std::string ToString() const;

  friend bool operator==(const Error&, const Error&) = default;

 private:
  ErrorCode code_;
  std::string message_;
  std::int64_t os_code_;
};

std::unexpected<Error> MakeError(ErrorCode code, std::string message, std::int64_t os_code = 0);

inline std::unexpected<Error> InvalidArgumentError(std::string m) {
  return MakeError(ErrorCode::kInvalidArgument, std::move(m));
}
inline std::unexpected<Error> NotFoundError(std::string m) {
  return MakeError(ErrorCode::kNotFound, std::move(m));
}
inline std::unexpected<Error> AlreadyExistsError(std::string m) {
  return MakeError(ErrorCode::kAlreadyExists, std::move(m));
}
inline std::unexpected<Error> PermissionDeniedError(std::string m) {
  return MakeError(ErrorCode::kPermissionDenied, std::move(m));
}
inline std::unexpected<Error> UnauthenticatedError(std::string m) {
  return MakeError(ErrorCode::kUnauthenticated, std::move(m));
}
inline std::unexpected<Error> FailedPreconditionError(std::string m) {
  return MakeError(ErrorCode::kFailedPrecondition, std::move(m));
}
inline std::unexpected<Error> UnavailableError(std::string m) {
  return MakeError(ErrorCode::kUnavailable, std::move(m));
}
inline std::unexpected<Error> DeadlineExceededError(std::string m) {
  return MakeError(ErrorCode::kDeadlineExceeded, std::move(m));
}
inline std::unexpected<Error> ResourceExhaustedError(std::string m) {
  return MakeError(ErrorCode::kResourceExhausted, std::move(m));
}
inline std::unexpected<Error> DataLossError(std::string m) {
  return MakeError(ErrorCode::kDataLoss, std::move(m));
}
inline std::unexpected<Error> UnsupportedError(std::string m) {
  return MakeError(ErrorCode::kUnsupported, std::move(m));
}
inline std::unexpected<Error> InternalError(std::string m) {
  return MakeError(ErrorCode::kInternal, std::move(m));
}

// Translates a POSIX errno value at the OS seam: "open /var/lib/ward/key: No such file or
// directory", code chosen from the errno (ENOENT -> kNotFound, ENOSPC -> kResourceExhausted, ...).
Error ErrnoError(std::string_view context, int errno_value);

}  // namespace ward
