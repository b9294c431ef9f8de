// Shared injection queue: the run queue that any thread may push into (spawns from outside the
// runtime, local-queue overflow) and that idle workers pull batches from.
#pragma once

#include <cassert>
#include <cstddef>
#include <mutex>

#include "brigade/runtime/detail/sync_primitives.hpp"

namespace brigade::runtime::detail {

// Mutex-protected intrusive FIFO of `Node*`, linked through `Node::queue_next`.
//
// The queue never owns nodes: it only links them. A node is "taken" when a push succeeds and
// handed back to the caller by pop / pop_n (with `queue_next` reset to nullptr). The length is
// mirrored in an atomic so workers can poll for work without touching the lock.
//
// After close(), push / push_batch refuse new nodes (returning false, leaving them untouched) but
// pop / pop_n keep working so the shutdown path can drain what was queued before the close.
template <class Node>
class InjectQueue {
 public:
  InjectQueue() = default;
  InjectQueue(const InjectQueue&) = delete;
  InjectQueue& operator=(const InjectQueue&) = delete;

  // Appends one node. Returns false (node not taken) if the queue is closed.
  [[nodiscard]] bool push(Node* node) {
    assert(node != nullptr);
    std::lock_guard lock(mutex_);
    if (closed_.load(std::memory_order_relaxed)) {  // relaxed: only written under mutex_.
      return false;
    }
    node->queue_next = nullptr;
    link_back_locked(node, node, 1);
    return true;
  }

  // Appends an already linked chain `first -> ... -> last` of `count` nodes in one critical
  // section. Returns false (chain not taken) if the queue is closed.
  [[nodiscard]] bool push_batch(Node* first, Node* last, std::size_t count) {
    if (count == 0) {
      return !is_closed();
    }
    assert(first != nullptr && last != nullptr);
#ifndef NDEBUG
    {
      // Walk outside the lock: the chain is still exclusively the caller's.
      std::size_t n = 1;
      Node* node = first;
      for (; node != last; node = node->queue_next) {
        assert(node->queue_next != nullptr && "chain does not reach `last`");
        ++n;
      }
      assert(n == count && "`count` does not match the chain length");
    }
#endif
    std::lock_guard lock(mutex_);
    if (closed_.load(std::memory_order_relaxed)) {  // relaxed: only written under mutex_.
      return false;
    }
    last->queue_next = nullptr;
    link_back_locked(first, last, count);
    return true;
  }

  // Removes the oldest node, or returns nullptr if the queue is (observed) empty.
  [[nodiscard]] Node* pop() {
    Node* node = nullptr;
    return pop_n(&node, 1) == 1 ? node : nullptr;
  }

  // Removes up to `max` of the oldest nodes into `out[0..n)` (oldest first); returns n.
  [[nodiscard]] std::size_t pop_n(Node** out, std::size_t max) {
    // relaxed: a stale 0 is indistinguishable from racing ahead of the push; a non-zero value is
    // re-checked under the lock, which provides the ordering for the nodes themselves.
    if (max == 0 || len_.load(std::memory_order_relaxed) == 0) {
      return 0;
    }
    std::lock_guard lock(mutex_);
    std::size_t n = 0;
    Node* node = head_;
    while (n < max && node != nullptr) {
      Node* next = node->queue_next;
      node->queue_next = nullptr;
      out[n++] = node;
      node = next;
    }
    head_ = node;
    if (head_ == nullptr) {
      tail_ = nullptr;
    }
    // relaxed load: len_ is only modified under mutex_. release store: keeps is_empty()'s
    // acquire meaningful whichever store it reads (the pushes we saw happen-before this one).
    len_.store(len_.load(std::memory_order_relaxed) - n, std::memory_order_release);
    return n;
  }

  // Refuses all further pushes. Idempotent.
  void close() {
    std::lock_guard lock(mutex_);
    // release: pairs with is_closed()'s acquire so lock-free observers of the flag also see what
    // the closing thread did before closing (e.g. its shutdown bookkeeping).
    closed_.store(true, std::memory_order_release);
  }

  [[nodiscard]] bool is_closed() const {
    return closed_.load(std::memory_order_acquire);  // acquire: pairs with close().
  }

  // Approximate when read concurrently with pushes/pops.
  [[nodiscard]] std::size_t len() const {
    // relaxed: a hint for heuristics/metrics; no data is read based on it.
    return len_.load(std::memory_order_relaxed);
  }

  [[nodiscard]] bool is_empty() const {
    // acquire: pairs with the release stores of len_, so a worker that sees non-empty also sees
    // everything the pushers wrote before pushing.
    return len_.load(std::memory_order_acquire) == 0;
  }

 private:
  void link_back_locked(Node* first, Node* last, std::size_t count) {
    if (tail_ == nullptr) {
      head_ = first;
    } else {
      tail_->queue_next = first;
    }
    tail_ = last;
    // relaxed load: len_ is only modified under mutex_. release store: see is_empty().
    len_.store(len_.load(std::memory_order_relaxed) + count, std::memory_order_release);
  }

  sync::Mutex mutex_;
  Node* head_ = nullptr;  // Guarded by mutex_.
  Node* tail_ = nullptr;  // Guarded by mutex_.
  sync::Atomic<std::size_t> len_{0};
  sync::Atomic<bool> closed_{false};
};

}  // namespace brigade::runtime::detail
