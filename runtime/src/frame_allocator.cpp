#include "brigade/runtime/detail/frame_allocator.hpp"

#include <array>
#include <cstdint>
#include <new>
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
// A thread keeps at most this many bytes of free blocks; beyond it they go back to malloc. A task
// often ends on another worker than the one that made it, so one worker's cache takes in more
// blocks than it hands out: a cap counted per class let that drift pin megabytes over hours of
// load (the soak's slow growth); a cap on bytes is reached within the first minutes and holds.
// It fits a batch of a thousand small tasks (cell and frame) spawned and joined at once.
constexpr std::size_t kMaxCachedBytes = 512 * 1024;

std::size_t size_class_of(std::size_t size) noexcept {
  return size <= kSmallestBlock ? 0 : (size - kSmallestBlock + kGranule - 1) / kGranule;
}

std::size_t block_size_of(std::size_t size_class) noexcept {
  return kSmallestBlock + size_class * kGranule;
}

struct FreeBlock {
  FreeBlock* next;
};

class FrameCache {
 public:
  FrameCache() = default;
  FrameCache(const FrameCache&) = delete;
  FrameCache& operator=(const FrameCache&) = delete;
  ~FrameCache() {
    for (FreeBlock* head : heads_) {
      while (head != nullptr) ::operator delete(std::exchange(head, head->next));
    }
  }

  // For a thread that frees frames but never makes them: a cache there would only fill.
  void disable() noexcept { enabled_ = false; }

  void* take(std::size_t size_class) noexcept {
    FreeBlock* block = heads_[size_class];
    if (block == nullptr) return nullptr;
    heads_[size_class] = block->next;
    cached_bytes_ -= block_size_of(size_class);
    return block;
  }

  bool give(void* memory, std::size_t size_class) noexcept {
    const std::size_t size = block_size_of(size_class);
    if (!enabled_ || cached_bytes_ + size > kMaxCachedBytes) return false;
    heads_[size_class] = ::new (memory) FreeBlock{heads_[size_class]};
    cached_bytes_ += size;
    return true;
  }

 private:
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
