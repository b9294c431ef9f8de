#include "brigade/runtime/detail/frame_allocator.hpp"

#include <array>
#include <atomic>
#include <cstdint>
#include <mutex>
#include <new>
#include <type_traits>
#include <utility>

namespace brigade::runtime::detail {

// AddressSanitizer must see every frame freed and reused, or a use after free goes unnoticed.
#if defined(__SANITIZE_ADDRESS__)
void* allocate_frame(std::size_t size) { return ::operator new(size); }
void deallocate_frame(void* block, std::size_t) noexcept { ::operator delete(block); }
void stop_caching_frames_on_this_thread() noexcept {}
#else
namespace {

// Block sizes follow glibc malloc's chunks: a chunk is 16-byte aligned and carries an 8-byte size
// field, so a request of 16k + 8 bytes fills its chunk exactly. Classes of 24, 40, 56, ... bytes
// therefore waste nothing (rounding to multiples of 16 would cost up to 16 bytes a block).
constexpr std::size_t kGranule = 16;
constexpr std::size_t kSmallestBlock = kGranule + 8;
constexpr std::size_t kClasses = 128;  // blocks up to 2 KiB are recycled
// A thread keeps at most this many bytes of free blocks; beyond it they go to the depot (below)
// or back to malloc. A cap counted per class let a thread that frees more than it allocates pin
// megabytes over hours of load (the soak's slow growth); a cap on bytes is reached within the
// first minutes and holds.
constexpr std::size_t kMaxCachedBytes = 512 * 1024;
// A task often ends on another worker than the one that made it: one worker frees the frames the
// other allocates, and each would go through malloc's slow paths (a free into another thread's
// arena, an allocation with an empty per-thread cache). So blocks travel between threads in
// batches, through a depot shared by all (the magazines and depot of Bonwick's slab allocator,
// tcmalloc's transfer cache): a thread with a full cache hands a batch of the class it frees to
// the depot, and a thread out of blocks of a class takes a batch from it before calling malloc.
constexpr std::size_t kBatchBlocks = 32;
// The depot's bound, whatever the classes: what it cannot take goes back to malloc.
constexpr std::size_t kMaxDepotBytes = 1024 * 1024;

std::size_t size_class_of(std::size_t size) noexcept {
  return size <= kSmallestBlock ? 0 : (size - kSmallestBlock + kGranule - 1) / kGranule;
}

std::size_t block_size_of(std::size_t size_class) noexcept {
  return kSmallestBlock + size_class * kGranule;
}

// A free block. In the depot, the first block of each batch also links the batches (a cache's
// own lists leave that word as it is: an allocation or free pays for one store, not two).
struct FreeBlock {
  FreeBlock* next;
  FreeBlock* next_batch;
};
static_assert(sizeof(FreeBlock) <= kSmallestBlock);

void release_chain(FreeBlock* chain) noexcept {
  while (chain != nullptr) ::operator delete(std::exchange(chain, chain->next));
}

class Depot {
 public:
  constexpr Depot() = default;
  Depot(const Depot&) = delete;
  Depot& operator=(const Depot&) = delete;

  // Takes a chain of kBatchBlocks blocks of `size_class`; false when the depot is full.
  bool put(std::size_t size_class, FreeBlock* batch) noexcept {
    const std::size_t bytes = kBatchBlocks * block_size_of(size_class);
    if (bytes_.fetch_add(bytes, std::memory_order_relaxed) + bytes > kMaxDepotBytes) {
      bytes_.fetch_sub(bytes, std::memory_order_relaxed);
      return false;
    }
    Shelf& shelf = shelves_[size_class];
    std::lock_guard guard(shelf.lock);
    batch->next_batch = shelf.batches;
    shelf.batches = batch;
    return true;
  }

  // A chain of kBatchBlocks blocks of `size_class`, or null.
  FreeBlock* take(std::size_t size_class) noexcept {
    Shelf& shelf = shelves_[size_class];
    FreeBlock* batch = nullptr;
    {
      std::lock_guard guard(shelf.lock);
      batch = shelf.batches;
      if (batch == nullptr) return nullptr;
      shelf.batches = batch->next_batch;
    }
    bytes_.fetch_sub(kBatchBlocks * block_size_of(size_class), std::memory_order_relaxed);
    return batch;
  }

 private:
  struct Shelf {
    std::mutex lock;
    FreeBlock* batches = nullptr;
  };
  std::array<Shelf, kClasses> shelves_;
  std::atomic<std::size_t> bytes_{0};
};

// Constant-initialized and trivially destructible: ready before any thread allocates, and still
// there for a thread that frees frames while static objects are destroyed at exit. What it holds
// at exit stays the process's.
constinit Depot depot;
static_assert(std::is_trivially_destructible_v<Depot>);

class FrameCache {
 public:
  FrameCache() = default;
  FrameCache(const FrameCache&) = delete;
  FrameCache& operator=(const FrameCache&) = delete;
  ~FrameCache() {
    for (FreeBlock* head : heads_) release_chain(head);
  }

  // For a thread that frees frames but never makes them: a cache there would only fill.
  void disable() noexcept { enabled_ = false; }

  void* take(std::size_t size_class) noexcept {
    FreeBlock*& head = heads_[size_class];
    if (head == nullptr && !refill(head, size_class)) return nullptr;
    FreeBlock* block = head;
    head = block->next;
    cached_bytes_ -= block_size_of(size_class);
    return block;
  }

  bool give(void* memory, std::size_t size_class) noexcept {
    const std::size_t size = block_size_of(size_class);
    if (!enabled_) return false;
    FreeBlock*& head = heads_[size_class];
    // Full: a batch of this class makes room by moving to the depot; without one, the block goes
    // back to malloc.
    if (cached_bytes_ + size > kMaxCachedBytes && !spill_batch(head, size_class)) return false;
    FreeBlock* block = ::new (memory) FreeBlock;
    block->next = head;
    head = block;
    cached_bytes_ += size;
    return true;
  }

 private:
  // Takes a batch of `size_class` from the depot into the empty list `head`; false if it has none.
  // Out of line, like spill_batch: inlined, their calls would make every allocation and free save
  // and restore registers that only they need.
  [[gnu::noinline]] bool refill(FreeBlock*& head, std::size_t size_class) noexcept {
    head = depot.take(size_class);
    if (head == nullptr) return false;
    cached_bytes_ += kBatchBlocks * block_size_of(size_class);
    return true;
  }

  // Moves the newest kBatchBlocks blocks of `head`'s list to the depot (or to malloc, if the depot
  // is full); false if the list is shorter. Only a full cache does this, so the walk is rare.
  [[gnu::noinline]] bool spill_batch(FreeBlock*& head, std::size_t size_class) noexcept {
    FreeBlock* last = head;
    for (std::size_t i = 1; i < kBatchBlocks && last != nullptr; ++i) last = last->next;
    if (last == nullptr) return false;
    FreeBlock* batch = std::exchange(head, std::exchange(last->next, nullptr));
    cached_bytes_ -= kBatchBlocks * block_size_of(size_class);
    if (!depot.put(size_class, batch)) release_chain(batch);
    return true;
  }

  std::array<FreeBlock*, kClasses> heads_{};
  std::size_t cached_bytes_ = 0;
  bool enabled_ = true;
};

thread_local FrameCache cache;

}  // namespace

void* allocate_frame(std::size_t size) {
  const std::size_t size_class = size_class_of(size);
  if (size_class >= kClasses) return ::operator new(size);
  if (void* block = cache.take(size_class)) return block;
  return ::operator new(block_size_of(size_class));
}

void stop_caching_frames_on_this_thread() noexcept { cache.disable(); }

void deallocate_frame(void* block, std::size_t size) noexcept {
  const std::size_t size_class = size_class_of(size);
  if (size_class < kClasses && cache.give(block, size_class)) return;
  ::operator delete(block);
}
#endif

}  // namespace brigade::runtime::detail
