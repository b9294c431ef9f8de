// How much memory the per-thread free lists of frame_allocator.cpp and their shared depot may keep,
// and that the depot carries frames from the thread that frees them to one that allocates. The
// global operator new and delete are replaced to count the bytes live on the heap (which is why
// this is a binary of its own): what the caches hold is what stays live once every frame is freed.
#include "brigade/runtime/detail/frame_allocator.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <cstddef>
#include <thread>
#include <vector>

#include "../support/live_heap_bytes.hpp"

namespace {

using brigade::runtime::detail::allocate_frame;
using brigade::runtime::detail::deallocate_frame;
using brigade::runtime::detail::stop_caching_frames_on_this_thread;
using brigade::testing::live_heap_bytes;

// What a thread may keep (frame_allocator.cpp), what the depot shared by all threads may keep, and
// a page for what the test's own threads leave allocated.
constexpr std::ptrdiff_t kThreadCacheLimit = 512 * 1024;
constexpr std::ptrdiff_t kDepotLimit = 1024 * 1024;
constexpr std::ptrdiff_t kSlack = 4096;

struct Block {
  void* memory;
  std::size_t size;
};

// Frames of many sizes, as a server's tasks have: 2,048 blocks in each of 16 size classes,
// 40 to 1,000 bytes (about 17 MiB).
std::vector<Block> allocate_many() {
  std::vector<Block> blocks;
  blocks.reserve(16 * 2048);
  for (std::size_t size = 40; size <= 1000; size += 64) {
    for (int i = 0; i < 2048; ++i) blocks.push_back({allocate_frame(size), size});
  }
  return blocks;
}

TEST(FrameAllocator, AThreadKeepsAFixedNumberOfBytesOfFreeFramesWhateverTheirSizes) {
  const std::ptrdiff_t before = live_heap_bytes.load();
  std::ptrdiff_t kept_by_thread = 0;
  // On a thread of its own, so that its cache is freed when it exits.
  std::thread([&kept_by_thread, before] {
    {
      const std::vector<Block> blocks = allocate_many();
      for (const Block& block : blocks) deallocate_frame(block.memory, block.size);
    }
    kept_by_thread = live_heap_bytes.load() - before;
  }).join();
  const std::ptrdiff_t kept_after_exit = live_heap_bytes.load() - before;
  // It does cache (under AddressSanitizer every frame goes to malloc).
#if !defined(__SANITIZE_ADDRESS__)
  EXPECT_GE(kept_by_thread, kThreadCacheLimit / 2);
#endif
  EXPECT_LE(kept_by_thread, kThreadCacheLimit + kDepotLimit + kSlack);
  EXPECT_GE(kept_after_exit, 0);
  EXPECT_LE(kept_after_exit, kDepotLimit + kSlack);  // its own cache went with it
}

// The drift a server sees: a task made on one worker ends on another, so one thread frees what
// others allocate. Its cache fills, then passes batches to the depot until that is full too, then
// hands the rest back to malloc.
TEST(FrameAllocator, AThreadThatOnlyFreesWhatOthersAllocatedKeepsNoMoreThanTheLimit) {
  const std::ptrdiff_t before = live_heap_bytes.load();
  std::ptrdiff_t kept = 0;
  std::thread([&kept, before] {
    for (int round = 0; round < 4; ++round) {
      std::vector<Block> blocks;
      std::thread([&blocks] { blocks = allocate_many(); }).join();
      for (const Block& block : blocks) deallocate_frame(block.memory, block.size);
    }
    kept = live_heap_bytes.load() - before;
  }).join();
  EXPECT_GE(kept, 0);
  EXPECT_LE(kept, kThreadCacheLimit + kDepotLimit + kSlack);
}

// The same drift, seen from the allocating side: what one thread freed beyond its own cache serves
// another thread's allocations instead of malloc.
TEST(FrameAllocator, FramesFreedOnOneThreadServeAllocationsOnAnother) {
#if defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "under AddressSanitizer every frame goes to malloc";
#endif
  constexpr std::size_t kSize = 1000;  // a size class of its own: 1,000-byte blocks
  constexpr std::ptrdiff_t kCount = 2048;
  std::vector<void*> blocks;
  std::thread([&blocks] {
    for (std::ptrdiff_t i = 0; i < kCount; ++i) blocks.push_back(allocate_frame(kSize));
  }).join();
  // A second thread frees them all: half a MiB stays in its cache (freed when it exits), up to a
  // MiB goes to the depot.
  std::thread([&blocks] {
    for (void* block : blocks) deallocate_frame(block, kSize);
  }).join();
  std::ptrdiff_t grown = 0;
  std::thread([&grown] {
    const std::ptrdiff_t before = live_heap_bytes.load();
    std::vector<void*> mine;
    mine.reserve(kCount);
    const std::ptrdiff_t reserved = live_heap_bytes.load() - before;
    for (std::ptrdiff_t i = 0; i < kCount; ++i) mine.push_back(allocate_frame(kSize));
    grown = live_heap_bytes.load() - before - reserved;
    for (void* block : mine) deallocate_frame(block, kSize);
  }).join();
  // Without the depot all of it would come from malloc: kCount * kSize bytes.
  EXPECT_LE(grown, kCount * static_cast<std::ptrdiff_t>(kSize) - kDepotLimit / 2);
}

// A blocking-pool thread frees frames others made and makes none: it keeps nothing.
TEST(FrameAllocator, AThreadThatStoppedCachingKeepsNoFreeFrames) {
  const std::ptrdiff_t before = live_heap_bytes.load();
  std::ptrdiff_t kept = -1;
  std::thread([&kept, before] {
    stop_caching_frames_on_this_thread();
    std::vector<Block> blocks;
    std::thread([&blocks] { blocks = allocate_many(); }).join();
    for (const Block& block : blocks) deallocate_frame(block.memory, block.size);
    std::vector<Block>().swap(blocks);
    kept = live_heap_bytes.load() - before;
  }).join();
  EXPECT_LE(kept, kSlack);  // what the test's own threads leave allocated
}

}  // namespace
