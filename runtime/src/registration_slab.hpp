#pragma once

#include <cstddef>
#include <memory>
#include <vector>

#include "brigade/runtime/detail/io_registration.hpp"

namespace brigade::runtime::detail {

// Memory for the driver's IoRegistrations, carved from pages of kPerPage slots and recycled
// through a free list: a registration costs its 40 bytes instead of a 48-byte malloc chunk, and
// there is one per connection. Pages are kept until the driver goes (Tokio's I/O slab keeps
// its pages too). Not synchronised: the driver calls it under its I/O mutex.
class RegistrationSlab {
 public:
  RegistrationSlab() = default;
  RegistrationSlab(const RegistrationSlab&) = delete;
  RegistrationSlab& operator=(const RegistrationSlab&) = delete;

  // Uninitialised memory for one IoRegistration.
  void* allocate();
  // Takes back memory from allocate() (the registration already destroyed).
  void release(void* slot) noexcept;

 private:
  static constexpr std::size_t kPerPage = 64;
  union Slot {
    Slot* next_free;
    alignas(IoRegistration) std::byte storage[sizeof(IoRegistration)];
  };
  static_assert(sizeof(Slot) == sizeof(IoRegistration));

  std::vector<std::unique_ptr<Slot[]>> pages_;
  Slot* free_ = nullptr;
};

}  // namespace brigade::runtime::detail
