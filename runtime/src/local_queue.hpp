// Per-worker bounded run queue: single producer (the owning worker), multiple stealers.
//
// Design (after Tokio's multi_thread queue): a power-of-two ring of `Node*` slots addressed by
// free-running u32 indices (masked by Capacity - 1, so wrap-around of the indices themselves is
// harmless as long as all distances are computed with unsigned subtraction).
//
//   tail_  u32, written only by the owner; slots in [real, tail) are queued tasks.
//   head_  u64 packing two u32s: high = `steal`, low = `real`.
//            steal == real: no steal in progress; tasks are [real, tail).
//            steal != real: a stealer has claimed [steal, real) and is copying those slots out.
//                           They are no longer queued, but their slots must not be reused yet,
//                           so the owner measures free space from `steal`, not `real`.
//
// A steal is two CASes on head_: claim (real += n, steal unchanged), then commit (steal = real).
// Only one steal can be in flight at a time; the owner's pop keeps advancing `real` meanwhile.
//
// Why no task is lost or taken twice: every removal (pop, the claim of a steal, an overflow's
// claim of half) is a compare-and-swap of `real` on head_, so each slot index is handed out once;
// a slot is written again only after `steal` has passed it, that is after whoever claimed it
// copied it out. tests/model/local_queue_model_test.cpp checks it under every interleaving of the
// owner and one or two stealers, across the u32 wrap and an overflow.
//
// Like InjectQueue, the ring is non-owning: destroying a non-empty queue just forgets the pointers.
#pragma once

#include <algorithm>
#include <array>
#include <atomic>
#include <cassert>
#include <cstdint>

#include "brigade/runtime/detail/sync_primitives.hpp"
#include "inject_queue.hpp"

namespace brigade::runtime::detail {

// Test-only backdoor (defined in tests): starts indices near u32 wrap-around and fakes an
// in-flight steal. Production code never defines it.
struct LocalQueueTestAccess;

template <class Node, std::uint32_t Capacity = 256>
class LocalQueue {
  static_assert(Capacity >= 2 && (Capacity & (Capacity - 1)) == 0,
                "Capacity must be a power of two >= 2");
  // Distances between u32 indices must be unambiguous.
  static_assert(Capacity <= (std::uint32_t{1} << 31), "Capacity too large for u32 indices");

 public:
  LocalQueue() = default;
  LocalQueue(const LocalQueue&) = delete;
  LocalQueue& operator=(const LocalQueue&) = delete;

  // ---- Owner-only operations ------------------------------------------------------------------

  // Pushes `task` at the back. If the ring is full and no steal is in progress, moves the oldest
  // Capacity/2 tasks plus `task` (in that order) to `inject` as one batch; if full while a steal
  // is in progress (which will free slots soon), sends just `task` to `inject`.
  //
  // Returns nullptr on success. If `inject` is closed it refuses the nodes; they are returned as
  // a chain linked through `queue_next` (nullptr-terminated) and the caller owns them again.
  [[nodiscard]] Node* push_back_or_overflow(Node* task, InjectQueue<Node>& inject) {
    assert(task != nullptr);
    const std::uint32_t tail = tail_.load(std::memory_order_relaxed);  // relaxed: we write it.
    for (;;) {
      // acquire: pairs with a stealer's commit (release) so its reads of the slots it freed
      // happen-before we overwrite them.
      const std::uint64_t head = head_.load(std::memory_order_acquire);
      const std::uint32_t steal = steal_of(head);
      const std::uint32_t real = real_of(head);

      if (tail - steal < Capacity) {
        // relaxed: published by the release store of tail_.
        buffer_[tail & kMask].store(task, std::memory_order_relaxed);
        // release: makes the slot visible to stealers that acquire tail_.
        tail_.store(tail + 1, std::memory_order_release);
        return nullptr;
      }
      if (steal != real) {
        // A stealer is about to free slots; don't contend with it, offload just this task.
        count_overflow();
        if (inject.push(task)) {
          return nullptr;
        }
        task->queue_next = nullptr;
        return task;
      }
      Node* rejected = nullptr;
      if (overflow_half(task, real, tail, inject, rejected)) {
        return rejected;
      }
      // A stealer claimed tasks between our load and CAS: retry; now there is room or a steal in
      // progress.
    }
  }

  // Pops the oldest task (FIFO), or nullptr if empty.
  [[nodiscard]] Node* pop() {
    const std::uint32_t tail = tail_.load(std::memory_order_relaxed);  // relaxed: we write it.
    // relaxed: the CAS validates the value, and we only read slots we wrote ourselves.
    std::uint64_t head = head_.load(std::memory_order_relaxed);
    for (;;) {
      const std::uint32_t steal = steal_of(head);
      const std::uint32_t real = real_of(head);
      if (real == tail) {
        return nullptr;
      }
      const std::uint32_t next_real = real + 1;
      // Without a steal in flight both halves move together; otherwise leave `steal` to the
      // stealer's commit.
      const std::uint64_t next =
          steal == real ? pack(next_real, next_real) : pack(steal, next_real);
      assert(steal == real || steal != next_real);
      // release: whoever acquires this head and then loads tail_ must see tail_ >= next_real (our
      // earlier tail_ store precedes this CAS). relaxed on failure: we just retry with the value.
      if (head_.compare_exchange_weak(head, next, std::memory_order_release,
                                      std::memory_order_relaxed)) {
        return buffer_[real & kMask].load(std::memory_order_relaxed);  // relaxed: our own write.
      }
    }
  }

  // ---- Stealer operation (called by the owner of `dst`) ---------------------------------------

  // Claims half (rounded up) of this queue's tasks, moves all but the last of them into `dst`
  // and returns the last one for the caller to run directly. Returns nullptr if there is nothing
  // to steal, another steal from this queue is in progress, or `dst` is more than half full.
  [[nodiscard]] Node* steal_into(LocalQueue& dst) {
    assert(&dst != this);
    // relaxed: the caller owns dst, so it is the only writer of dst.tail_.
    const std::uint32_t dst_tail = dst.tail_.load(std::memory_order_relaxed);
    // acquire: pairs with commits by dst's own stealers so their reads of dst's slots
    // happen-before we overwrite those slots below.
    const std::uint32_t dst_steal = steal_of(dst.head_.load(std::memory_order_acquire));
    if (dst_tail - dst_steal > Capacity / 2) {
      return nullptr;  // A full half might not fit; stealing less is not worth the complexity.
    }

    // Phase 1: claim [first, first + n) by advancing `real`, keeping `steal` at `first`.
    // acquire: pairs with the release of whoever last wrote head_, so tail_ below is >= real.
    std::uint64_t head = head_.load(std::memory_order_acquire);
    std::uint32_t first = 0;
    std::uint32_t n = 0;
    for (;;) {
      const std::uint32_t steal = steal_of(head);
      const std::uint32_t real = real_of(head);
      if (steal != real) {
        return nullptr;  // Another stealer is mid-steal.
      }
      // acquire: pairs with the owner's release store; slots below tail are visible to us.
      const std::uint32_t tail = tail_.load(std::memory_order_acquire);
      // May exceed Capacity if `head` is stale; then the CAS below fails and we recompute.
      const std::uint32_t available = tail - real;
      n = available - available / 2;
      if (n == 0) {
        return nullptr;
      }
      // acq_rel: release hands on the tail_ we acquired (whoever acquires this head then reads
      // tail_ >= real + n); acquire is needed on failure, where the retry reloads tail_.
      if (head_.compare_exchange_weak(head, pack(steal, real + n), std::memory_order_acq_rel,
                                      std::memory_order_acquire)) {
        first = real;
        break;
      }
    }
    // head_ didn't change between our tail_ load and the CAS, and the owner keeps
    // tail - steal <= Capacity, so at most half was claimed.
    assert(n <= Capacity / 2);

    // Phase 2: copy. The claimed slots can't be reused by the owner (it measures room from
    // `steal`, which is still `first`) nor touched by other stealers (they see steal != real).
    for (std::uint32_t i = 0; i + 1 < n; ++i) {
      // relaxed: visible through the tail_ acquire above / published by dst.tail_'s release.
      Node* task = buffer_[(first + i) & kMask].load(std::memory_order_relaxed);
      dst.buffer_[(dst_tail + i) & kMask].store(task, std::memory_order_relaxed);
    }
    // relaxed: visible through the tail_ acquire above.
    Node* const ret = buffer_[(first + n - 1) & kMask].load(std::memory_order_relaxed);

    // Phase 3: commit (steal = real), releasing the slots. The owner may have popped past our
    // range in the meantime, so `real` may differ from first + n; keep whatever it is.
    std::uint64_t claimed = pack(first, first + n);
    for (;;) {
      assert(steal_of(claimed) == first);
      const std::uint32_t real = real_of(claimed);
      // release: our slot reads happen-before the owner reuses the slots (its acquire in push).
      // relaxed on failure: only `real` moved (owner pops); retry with it.
      if (head_.compare_exchange_weak(claimed, pack(real, real), std::memory_order_release,
                                      std::memory_order_relaxed)) {
        break;
      }
    }

    if (n > 1) {
      // release: publishes the dst slots written above to dst's stealers.
      dst.tail_.store(dst_tail + n - 1, std::memory_order_release);
    }
    return ret;
  }

  // ---- Any thread (approximate unless called by the owner) ------------------------------------

  // Number of queued tasks (excludes tasks a stealer has claimed but not yet committed).
  [[nodiscard]] std::uint32_t len() const {
    // acquire: pairs with the release of head_ updates so the tail_ load below is >= real.
    const std::uint32_t real = real_of(head_.load(std::memory_order_acquire));
    // relaxed: no slot is read; the ordering vs. head_ comes from the acquire above.
    const std::uint32_t tail = tail_.load(std::memory_order_relaxed);
    // A non-owner may pair a stale head with a fresh tail; clamp.
    return std::min(tail - real, Capacity);
  }

  [[nodiscard]] bool is_empty() const { return len() == 0; }

  // Free slots for pushes (slots claimed by an in-flight steal are not free yet).
  // How many times a full queue sent tasks to the injection queue (Tokio's overflow count).
  [[nodiscard]] std::uint64_t overflows() const {
    return overflows_.load(std::memory_order_relaxed);
  }
  [[nodiscard]] std::uint32_t remaining_slots() const {
    // acquire/relaxed: same reasoning as len().
    const std::uint32_t steal = steal_of(head_.load(std::memory_order_acquire));
    const std::uint32_t tail = tail_.load(std::memory_order_relaxed);
    return Capacity - std::min(tail - steal, Capacity);
  }

  static constexpr std::uint32_t capacity() { return Capacity; }

 private:
  friend struct LocalQueueTestAccess;

  static constexpr std::uint32_t kMask = Capacity - 1;
  static constexpr std::uint32_t kOverflowBatch = Capacity / 2;

  static constexpr std::uint64_t pack(std::uint32_t steal, std::uint32_t real) {
    return (std::uint64_t{steal} << 32) | real;
  }
  static constexpr std::uint32_t steal_of(std::uint64_t head) {
    return static_cast<std::uint32_t>(head >> 32);
  }
  static constexpr std::uint32_t real_of(std::uint64_t head) {
    return static_cast<std::uint32_t>(head);
  }

  // Full ring, no steal in flight: claims the oldest half and pushes it plus `task` to `inject`.
  // Returns false if a stealer moved head_ first (nothing done). Sets `rejected` to the chain if
  // `inject` is closed.
  bool overflow_half(Node* task, std::uint32_t real, [[maybe_unused]] std::uint32_t tail,
                     InjectQueue<Node>& inject, Node*& rejected) {
    assert(tail - real == Capacity);
    std::uint64_t expected = pack(real, real);
    const std::uint32_t next = real + kOverflowBatch;
    // release: a stealer that acquires the new head then reads tail_ must see tail_ >= next
    // (our tail_ stores precede this CAS). No acquire: we only read slots we wrote ourselves.
    // relaxed on failure: the caller reloads head_ with acquire before retrying.
    if (!head_.compare_exchange_strong(expected, pack(next, next), std::memory_order_release,
                                       std::memory_order_relaxed)) {
      return false;
    }
    // The claimed slots are exclusively ours now: stealers start at `next` or later.
    Node* const first = buffer_[real & kMask].load(std::memory_order_relaxed);
    Node* prev = first;
    for (std::uint32_t i = 1; i < kOverflowBatch; ++i) {
      Node* node = buffer_[(real + i) & kMask].load(std::memory_order_relaxed);
      prev->queue_next = node;
      prev = node;
    }
    prev->queue_next = task;
    task->queue_next = nullptr;
    count_overflow();
    rejected = inject.push_batch(first, task, kOverflowBatch + 1) ? nullptr : first;
    return true;
  }

  // Only the owner writes the count: a plain increment, published for readers.
  void count_overflow() {
    overflows_.store(overflows_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  }

  alignas(64) sync::Atomic<std::uint64_t> head_{0};  // CAS'd by owner and stealers.
  alignas(64) sync::Atomic<std::uint32_t> tail_{0};  // Written by owner, read by stealers.
  std::atomic<std::uint64_t> overflows_{0};          // Written by owner, read by metrics.
  alignas(64) std::array<sync::Atomic<Node*>, Capacity> buffer_{};
};

}  // namespace brigade::runtime::detail
