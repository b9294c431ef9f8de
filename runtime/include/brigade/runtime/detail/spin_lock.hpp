#pragma once

#include "brigade/runtime/detail/sync_primitives.hpp"

#ifndef BRIGADE_MODEL_CHECK
#include <atomic>
#include <thread>
#endif

namespace brigade::runtime::detail {

#ifdef BRIGADE_MODEL_CHECK
// Under the model checker a spinning thread would spin for ever in an interleaving that never
// runs the holder; its mutex blocks the waiter instead, which is what the spinning amounts to.
using SpinLock = sync::Mutex;
#else
// A one-byte lock for state that is held for a handful of instructions (a task's ready list,
// its join waiter). A std::mutex would be 40 bytes in every task header.
class SpinLock {
 public:
  void lock() noexcept {
    for (int spins = 0; flag_.test_and_set(std::memory_order_acquire); ++spins) {
      if (spins >= 64) {
        std::this_thread::yield();
        spins = 0;
      }
    }
  }
  void unlock() noexcept { flag_.clear(std::memory_order_release); }

 private:
  std::atomic_flag flag_;
};
#endif

}  // namespace brigade::runtime::detail
