// How much memory the per-thread free lists of frame_allocator.cpp may keep. The global operator
// new and delete are replaced to count the bytes live on the heap (which is why this is a binary
// of its own): what a thread's cache holds is what stays live once every frame is freed.
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

// What a thread may keep (frame_allocator.cpp), and a page for what the test's own threads
// leave allocated.
constexpr std::ptrdiff_t kCacheLimit = 512 * 1024 + 4096;

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
  std::ptrdiff_t kept = 0;
  // On a thread of its own, so that what it keeps is counted here and freed when it exits.
  std::thread([&kept] {
    const std::ptrdiff_t before = live_heap_bytes.load();
    {
      const std::vector<Block> blocks = allocate_many();
      for (const Block& block : blocks) deallocate_frame(block.memory, block.size);
    }
    kept = live_heap_bytes.load() - before;
  }).join();
  EXPECT_GE(kept, 0);
  EXPECT_LE(kept, kCacheLimit);
}

// The drift a server sees: a task made on one worker ends on another, so one thread frees what
// others allocate. Its cache fills, then hands the rest back to malloc.
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
  EXPECT_LE(kept, kCacheLimit);
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
  EXPECT_LE(kept, 4096);  // what the test's own threads leave allocated
}

}  // namespace
