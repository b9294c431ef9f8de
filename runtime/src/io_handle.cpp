#include "brigade/runtime/detail/io_handle.hpp"

#include <unistd.h>

#include "driver.hpp"
#include "runtime_core.hpp"

namespace brigade::runtime::detail {

std::expected<IoHandle, std::error_code> IoHandle::adopt(int fd) {
  std::error_code error;
  auto registration = expect_current_runtime().driver().register_io(fd, error);
  if (!registration) {
    ::close(fd);
    return std::unexpected(error);
  }
  return IoHandle(std::move(registration));
}

IoHandle& IoHandle::operator=(IoHandle&& other) noexcept {
  if (this != &other) {
    reset();
    registration_ = std::move(other.registration_);
  }
  return *this;
}

IoHandle::~IoHandle() { reset(); }

void IoHandle::reset() noexcept {
  if (!registration_) return;
  const int fd = registration_->fd;
  // Deregister before closing, so the descriptor number cannot be reused while the driver still
  // knows it.
  Driver& driver = registration_->driver;
  driver.deregister_io(std::move(registration_));
  ::close(fd);
}

}  // namespace brigade::runtime::detail
