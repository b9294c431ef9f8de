// Counts the heap allocations a spawn makes, with the global operator new replaced (which is why
// this is a binary of its own). The tasks' frames hold a 4 KiB array: blocks that large bypass
// the runtime's per-thread free lists (frame_allocator.cpp), so every block a spawn needs is one
// call to operator new. The tasks stay alive together, so no spawn reuses another's memory.
#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdlib>
#include <new>
#include <thread>
#include <utility>
#include <vector>

#include "brigade/runtime/runtime.hpp"
#include "brigade/runtime/spawn.hpp"
#include "brigade/runtime/sync/cancellation_token.hpp"
#include "brigade/runtime/task.hpp"
#include "brigade/runtime/time.hpp"

namespace {

std::atomic<bool> counting{false};
std::atomic<std::size_t> allocations{0};

}  // namespace

void* operator new(std::size_t size) {
  if (counting.load(std::memory_order_relaxed)) allocations.fetch_add(1);
  if (void* block = std::malloc(size == 0 ? 1 : size)) return block;
  throw std::bad_alloc();
}
// Not inlined: GCC 12 at -O1 pairs an inlined free() with the `new` expressions it sees (in
// gtest) and warns of a mismatch (-Wmismatched-new-delete), though both are these replacements.
[[gnu::noinline]] void operator delete(void* block) noexcept { std::free(block); }
[[gnu::noinline]] void operator delete(void* block, std::size_t) noexcept { std::free(block); }

namespace rt = brigade::runtime;

namespace {

constexpr std::size_t kTasks = 64;

// The page is used across the suspension, so it lives in the frame.
rt::Task<unsigned> hold_a_page(const rt::CancellationToken* release, std::size_t seed) {
  std::array<volatile unsigned char, 4096> page{};
  page[seed % page.size()] = 1;
  co_await release->cancelled();
  co_return page[seed % page.size()];
}

struct Counts {
  std::size_t by_function = 0;
  std::size_t by_task = 0;
};

// Allocations made by kTasks spawns of each form, after one spawn of each to warm up (it lets
// spawn(fn, args...) learn the frame's size and the runtime allocate what it keeps).
rt::Task<Counts> count_spawns() {
  rt::CancellationToken release;
  std::vector<rt::JoinHandle<unsigned>> handles;
  handles.reserve(4 * kTasks);
  handles.push_back(rt::spawn(hold_a_page, &release, std::size_t{0}));
  handles.push_back(rt::spawn(hold_a_page(&release, 0)));
  co_await rt::yield_now();

  Counts counts;
  allocations = 0;
  counting = true;
  for (std::size_t i = 0; i < kTasks; ++i) handles.push_back(rt::spawn(hold_a_page, &release, i));
  counting = false;
  counts.by_function = allocations.exchange(0);

  counting = true;
  for (std::size_t i = 0; i < kTasks; ++i) handles.push_back(rt::spawn(hold_a_page(&release, i)));
  counting = false;
  counts.by_task = allocations.exchange(0);

  release.cancel();
  for (auto& handle : handles) static_cast<void>(co_await std::move(handle));
  co_return counts;
}

TEST(SpawnAllocations, SpawnWithArgumentsAllocatesOnceATaskCellAndFrameTogether) {
  Counts counts;
  // A thread of its own, whose frame free lists start empty. No stall monitor: on a loaded
  // machine it can take the spawn loop for a stall, and its report allocates while we count.
  std::thread([&counts] {
    auto runtime =
        rt::Builder::current_thread().stall_threshold(std::chrono::milliseconds(0)).build();
    counts = runtime.block_on(count_spawns());
  }).join();
  EXPECT_EQ(counts.by_function, kTasks);
  // The form it replaces: a frame, and a cell that the free lists cannot supply either.
  EXPECT_GE(counts.by_task, 2 * kTasks - 1);
}

}  // namespace
