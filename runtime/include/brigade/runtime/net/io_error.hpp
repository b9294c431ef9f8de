#pragma once

#include <expected>
#include <string>
#include <system_error>

namespace brigade::runtime::net {

// The error read_exact reports when the stream ends early.
std::error_code unexpected_eof() noexcept;

// Why a socket operation failed: an errno value, or the stream ending before read_exact was
// satisfied. It converts to and compares with std::error_code, but takes 4 bytes instead of 16.
// That matters because a coroutine frame keeps a slot for the result of every socket operation it
// awaits, and an idle connection is mostly its task's frame: IoResult<std::size_t> is 16 bytes
// where std::expected<std::size_t, std::error_code> is 24, and IoResult<void> 8 where it is 24.
class IoError {
 public:
  constexpr explicit IoError(int errno_value) noexcept : value_(errno_value) {}
  static constexpr IoError end_of_stream() noexcept { return IoError(kEndOfStream); }

  std::error_code code() const noexcept;
  // Implicit, so that an IoResult's error goes wherever a std::error_code is expected.
  operator std::error_code() const noexcept { return code(); }
  std::string message() const { return code().message(); }

  friend bool operator==(const IoError&, const IoError&) noexcept = default;
  friend bool operator==(const IoError& a, const std::error_code& b) noexcept {
    return a.code() == b;
  }
  friend bool operator==(const IoError& a, std::errc b) noexcept { return a.code() == b; }

 private:
  static constexpr int kEndOfStream = -1;  // errno values are positive
  int value_;
};

template <class T>
using IoResult = std::expected<T, IoError>;

}  // namespace brigade::runtime::net
