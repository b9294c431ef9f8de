#include "brigade/runtime/detail/io_handle.hpp"

#include <unistd.h>

#include "io_registration.hpp"
#include "runtime_core.hpp"

namespace brigade::runtime::detail {

IoHandle::IoHandle() noexcept = default;

std::expected<IoHandle, std::error_code> IoHandle::adopt(int fd) {
  Driver& driver = expect_current_runtime().driver();
  std::error_code error;
  auto registration = driver.register_io(fd, error);
  if (!registration) {
    ::close(fd);
    return std::unexpected(error);
  }
  IoHandle handle;
  handle.fd_ = fd;
  handle.registration_ = std::move(registration);
  handle.driver_ = &driver;
  return handle;
}

IoHandle::IoHandle(IoHandle&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)),
      registration_(std::move(other.registration_)),
      driver_(std::exchange(other.driver_, nullptr)) {}

IoHandle& IoHandle::operator=(IoHandle&& other) noexcept {
  if (this != &other) {
    reset();
    fd_ = std::exchange(other.fd_, -1);
    registration_ = std::move(other.registration_);
    driver_ = std::exchange(other.driver_, nullptr);
  }
  return *this;
}

IoHandle::~IoHandle() { reset(); }

void IoHandle::reset() noexcept {
  if (fd_ < 0) return;
  // Deregister before closing, so the descriptor number cannot be reused while the driver still
  // knows it.
  driver_->deregister_io(std::move(registration_));
  ::close(std::exchange(fd_, -1));
}

}  // namespace brigade::runtime::detail
