// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <expected>
#include <utility>

#include "ward/common/error.h"

namespace ward {

// Result<T> is std::expected<T, Error> that cannot be ignored: the class is [[nodiscard]], so
// every call whose Result is dropped is a compile warning (an error in CI), with no annotation to
// forget on each declaration. Status is Result<void>. Dropping a result on purpose is spelled
// `IgnoreError(...)` with a comment saying why.
template <typename T>
class [[nodiscard]] Result : public std::expected<T, Error> {
 public:
  using Base = std::expected<T, Error>;
  using Base::Base;
  Result() = default;
  // NOLINTNEXTLINE(google-explicit-constructor): the monadic operations return the base type.
  Result(const Base& other) : Base(other) {}
  // NOLINTNEXTLINE(google-explicit-constructor)
  Result(Base&& other) : Base(std::move(other)) {}
};
using Status = Result<void>;

// Drops a result whose failure the caller has decided not to act on (say why at the call).
template <typename T>
void IgnoreError(const Result<T>& /*result*/) {}

inline Status OkStatus() { return {}; }

}  // namespace ward

#define WARD_INTERNAL_CONCAT_(a, b) a##b
#define WARD_INTERNAL_CONCAT(a, b) WARD_INTERNAL_CONCAT_(a, b)

// Returns the error of `expr` (a Result or Status) from the enclosing function.
#define WARD_RETURN_IF_ERROR(expr)                             \
  do {                                                         \
    auto&& ward_status_ = (expr);                              \
    if (!ward_status_.has_value()) [[unlikely]] {              \
      return std::unexpected(std::move(ward_status_).error()); \
    }                                                          \
  } while (false)

// `WARD_ASSIGN_OR_RETURN(auto x, Foo());` declares x from Foo()'s value or returns its error.
#define WARD_ASSIGN_OR_RETURN(lhs, expr) \
  WARD_INTERNAL_ASSIGN_OR_RETURN(WARD_INTERNAL_CONCAT(ward_result_, __LINE__), lhs, expr)
#define WARD_INTERNAL_ASSIGN_OR_RETURN(tmp, lhs, expr) \
  auto tmp = (expr);                                   \
  if (!tmp.has_value()) [[unlikely]] {                 \
    return std::unexpected(std::move(tmp).error());    \
  }                                                    \
  lhs = std::move(*tmp)
