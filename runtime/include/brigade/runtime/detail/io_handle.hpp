#pragma once

#include <cstdint>
#include <expected>
#include <memory>
#include <system_error>

namespace brigade::runtime::detail {

struct IoRegistration;
class Driver;

// Which readiness an operation waits for.
enum class Interest : std::uint8_t { read, write };

// A non-blocking descriptor registered with the current runtime's I/O driver. Owns both: on
// destruction it deregisters, then closes the descriptor. It must not outlive its runtime.
class IoHandle {
 public:
  IoHandle() noexcept;
  // Takes ownership of `fd`, which must already be non-blocking. Call it on a runtime thread.
  static std::expected<IoHandle, std::error_code> adopt(int fd);

  IoHandle(IoHandle&& other) noexcept;
  IoHandle& operator=(IoHandle&& other) noexcept;
  ~IoHandle();

  int fd() const noexcept { return fd_; }
  IoRegistration& registration() const noexcept { return *registration_; }
  explicit operator bool() const noexcept { return fd_ >= 0; }

 private:
  void reset() noexcept;

  int fd_ = -1;
  std::unique_ptr<IoRegistration> registration_;
  Driver* driver_ = nullptr;
};

}  // namespace brigade::runtime::detail
