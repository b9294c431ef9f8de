#include "allocator_policy.hpp"

#include <malloc.h>

#include <cstdlib>

namespace brigade::app {
namespace {

// glibc's default threshold, and its floor for the dynamic one.
constexpr int kMmapThreshold = 128 * 1024;

}  // namespace

void set_allocator_policy() noexcept {
  if (std::getenv("MALLOC_MMAP_THRESHOLD_") != nullptr) return;
  if (std::getenv("GLIBC_TUNABLES") != nullptr) return;
  ::mallopt(M_MMAP_THRESHOLD, kMmapThreshold);
}

}  // namespace brigade::app
