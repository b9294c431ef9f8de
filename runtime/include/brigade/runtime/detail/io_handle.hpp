#pragma once

#include <expected>
#include <system_error>
#include <utility>

#include "brigade/runtime/detail/interest.hpp"
#include "brigade/runtime/detail/io_registration.hpp"

namespace brigade::runtime::detail {

// A non-blocking descriptor registered with the current runtime's I/O driver. Owns both: on
// destruction it deregisters, then closes the descriptor. It must not outlive its runtime.
//
// One pointer wide (the registration knows the descriptor and its driver): a connection task
// holds its stream in its frame for as long as the connection lives.
class IoHandle {
 public:
  IoHandle() noexcept = default;
  // Takes ownership of `fd`, which must already be non-blocking. Call it on a runtime thread.
  static std::expected<IoHandle, std::error_code> adopt(int fd);

  IoHandle(IoHandle&& other) noexcept
      : registration_(std::exchange(other.registration_, nullptr)) {}
  IoHandle& operator=(IoHandle&& other) noexcept;
  ~IoHandle();

  // Another owner of the same registration and descriptor (for a stream's other half): the
  // descriptor is deregistered and closed when the last owner goes.
  IoHandle share() const noexcept {
    registration_->owners.fetch_add(1, std::memory_order_relaxed);
    return IoHandle(registration_);
  }

  int fd() const noexcept { return registration_ ? registration_->fd : -1; }
  IoRegistration& registration() const noexcept { return *registration_; }
  explicit operator bool() const noexcept { return registration_ != nullptr; }

 private:
  explicit IoHandle(IoRegistration* registration) noexcept : registration_(registration) {}
  void reset() noexcept;

  IoRegistration* registration_ = nullptr;  // the driver's, until reset() deregisters it
};

}  // namespace brigade::runtime::detail
