// Unwrapping the runtime's results in tests: a failure throws with what was being done, so the
// test reports it by name instead of reading an empty std::expected.
#pragma once

#include <expected>
#include <stdexcept>
#include <string>
#include <system_error>
#include <type_traits>
#include <utility>

#include "brigade/runtime/join_error.hpp"
#include "brigade/runtime/timeout.hpp"

namespace brigade::testing {

// For the socket operations' IoResult and for the std::error_code results of the rest.
template <class T, class E>
T must(std::expected<T, E> result, const char* what) {
  if (!result) throw std::system_error(std::error_code(result.error()), what);
  return std::move(*result);
}

template <class E>
void must(std::expected<void, E> result, const char* what) {
  if (!result) throw std::system_error(std::error_code(result.error()), what);
}

// A JoinHandle's result: the value, or an exception naming the JoinError.
template <class T>
T joined(std::expected<T, runtime::JoinError> result, const char* what) {
  if (!result) throw std::runtime_error(std::string(what) + ": " + result.error().message());
  if constexpr (!std::is_void_v<T>) return std::move(*result);
}

// A timeout's result: the value, or an exception saying the operation hung.
template <class T>
T unless_hung(std::expected<T, runtime::Elapsed> result, const char* what) {
  if (!result) throw std::runtime_error(std::string(what) + ": hung");
  return std::move(*result);
}

}  // namespace brigade::testing
