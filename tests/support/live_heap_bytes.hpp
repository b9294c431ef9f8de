// Replaces the global operator new and delete to count the bytes live on the heap. Include it in
// exactly one file of a test binary (a replacement is defined once per program): that binary's
// tests can then see what a cache keeps, as the bytes still live once everything is freed.
#pragma once

#include <malloc.h>

#include <atomic>
#include <cstddef>
#include <cstdlib>
#include <new>

namespace brigade::testing {

inline std::atomic<std::ptrdiff_t> live_heap_bytes{0};

}  // namespace brigade::testing

// Not inlined, nor the deletes: GCC 12 pairs an inlined malloc() or free() with the `new` and
// `delete` it sees and warns of a mismatch (-Wmismatched-new-delete), though all are these
// replacements.
[[gnu::noinline]] void* operator new(std::size_t size) {
  void* block = std::malloc(size == 0 ? 1 : size);
  if (block == nullptr) throw std::bad_alloc();
  brigade::testing::live_heap_bytes.fetch_add(
      static_cast<std::ptrdiff_t>(::malloc_usable_size(block)));
  return block;
}
[[gnu::noinline]] void operator delete(void* block) noexcept {
  if (block == nullptr) return;
  brigade::testing::live_heap_bytes.fetch_sub(
      static_cast<std::ptrdiff_t>(::malloc_usable_size(block)));
  std::free(block);
}
[[gnu::noinline]] void operator delete(void* block, std::size_t) noexcept {
  ::operator delete(block);
}
