#pragma once

#include <cstddef>

namespace brigade::runtime::detail {

// Memory for coroutine frames and task cells. Tasks are allocated and freed at a high rate and
// in a handful of sizes, so each thread keeps free lists per size class (16 bytes apart) and reuses
// blocks without going back to malloc (whose per-thread cache holds only 7 blocks a size).
void* allocate_frame(std::size_t size);
void deallocate_frame(void* block, std::size_t size) noexcept;

}  // namespace brigade::runtime::detail
