#include "registration_slab.hpp"

#include <new>

namespace brigade::runtime::detail {

// AddressSanitizer must see every registration freed, or a use after free goes unnoticed.
#if defined(__SANITIZE_ADDRESS__)
void* RegistrationSlab::allocate() { return ::operator new(sizeof(IoRegistration)); }
void RegistrationSlab::release(void* memory) noexcept { ::operator delete(memory); }
#else
void* RegistrationSlab::allocate() {
  if (free_ == nullptr) {
    auto page = std::make_unique_for_overwrite<Slot[]>(kPerPage);
    for (std::size_t i = 0; i < kPerPage; ++i) {
      page[i].next_free = i + 1 < kPerPage ? &page[i + 1] : nullptr;
    }
    free_ = page.get();
    pages_.push_back(std::move(page));
  }
  Slot* slot = free_;
  free_ = slot->next_free;
  return slot->storage;
}

void RegistrationSlab::release(void* memory) noexcept {
  auto* slot = static_cast<Slot*>(memory);
  slot->next_free = free_;
  free_ = slot;
}
#endif

}  // namespace brigade::runtime::detail
