#pragma once

#include <cstddef>

namespace brigade::runtime::detail {

// Memory for coroutine frames and task cells. Tasks are allocated and freed at a high rate and
// in a handful of sizes, so each thread keeps free lists per size class (16 bytes apart) and reuses
// blocks without going back to malloc (whose per-thread cache holds only 7 blocks a size); a
// shared depot moves batches of blocks from threads that free more than they allocate to threads
// that allocate more than they free.
void* allocate_frame(std::size_t size);
void deallocate_frame(void* block, std::size_t size) noexcept;
// From now on, frames freed on the calling thread go straight back to malloc. For the blocking
// pool's threads: they free the cells of jobs whose handle was dropped but never allocate a frame,
// so a cache there would only fill, on each of up to max_blocking_threads threads.
void stop_caching_frames_on_this_thread() noexcept;

}  // namespace brigade::runtime::detail
