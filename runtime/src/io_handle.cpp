#include "brigade/runtime/detail/io_handle.hpp"

#include <unistd.h>

#include <utility>

#include "driver.hpp"
#include "runtime_core.hpp"

namespace brigade::runtime::detail {

std::expected<IoHandle, std::error_code> IoHandle::adopt(int fd) {
  std::error_code error;
  IoRegistration* registration = expect_current_runtime().driver().register_io(fd, error);
  if (registration == nullptr) {
    ::close(fd);
    return std::unexpected(error);
  }
  return IoHandle(registration);
}

IoHandle& IoHandle::operator=(IoHandle&& other) noexcept {
  if (this != &other) {
    reset();
    registration_ = std::exchange(other.registration_, nullptr);
  }
  return *this;
}

IoHandle::~IoHandle() { reset(); }

void IoHandle::reset() noexcept {
  if (registration_ == nullptr) return;
  IoRegistration& registration = *std::exchange(registration_, nullptr);
  // acq_rel: the last owner sees everything the others did before they let go.
  if (registration.owners.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
  const int fd = registration.fd;
  // Deregister before closing, so the descriptor number cannot be reused while the driver still
  // knows it.
  registration.driver.deregister_io(registration);
  ::close(fd);
}

}  // namespace brigade::runtime::detail
