#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>

#include "brigade/runtime/detail/interest.hpp"
#include "brigade/runtime/detail/spin_lock.hpp"
#include "brigade/runtime/detail/wait_list.hpp"

namespace brigade::runtime::detail {

class Driver;

// What a descriptor is ready for, as the driver last saw it. Edge-triggered epoll reports each
// change once, so readiness is remembered here until an operation proves it spent and clears it:
// EAGAIN, or a try_read that fills less than its buffer (the socket is empty).
enum Readiness : std::uint8_t {
  kReadable = 1 << 0,
  kWritable = 1 << 1,
  kReadClosed = 1 << 2,   // peer shut down its side (reads will see EOF)
  kWriteClosed = 1 << 3,  // peer gone (writes will fail)
  kError = 1 << 4,
  // An event reported the descriptor readable and no read has spent it yet: readable() may then
  // complete without confirming with a system call of its own (see IoOperation::attempt).
  kReadEdge = 1 << 5,
};

// The driver's record of one registered descriptor, with the tasks waiting to read from it and to
// write to it (any number of each: several acceptors on one listener, a read and a readable() in
// one select). Freed by the driver only after an epoll_wait that cannot still report it.
struct IoRegistration {
  IoRegistration(int descriptor, Driver& owner) noexcept : fd(descriptor), driver(owner) {}

  // The first read after a read event spends the edge: whatever it finds, the next one cannot
  // take the event for proof of bytes. Call under `lock`; whether the edge was there.
  bool spend_read_edge() noexcept {
    const bool edge = (readiness & kReadEdge) != 0;
    readiness &= static_cast<std::uint8_t>(~kReadEdge);
    return edge;
  }

  std::uint8_t ready_mask(Interest interest) const noexcept {
    return interest == Interest::read ? (kReadable | kReadClosed | kError)
                                      : (kWritable | kWriteClosed | kError);
  }

  // Ordered so that the small fields share one word: 40 bytes, one malloc chunk of 48.
  const int fd;
  SpinLock lock;
  std::uint8_t readiness = kReadable | kWritable;  // optimistic: try the syscall first
  // The IoHandles sharing the descriptor (a stream's two halves); the last one to go closes it.
  std::atomic<std::uint8_t> owners{1};
  Driver& driver;
  std::uint64_t tick = 0;  // bumped by every event
  WaitList readers;
  WaitList writers;
  // `readiness`, `tick`, `readers` and `writers` are guarded by `lock`.

  WaitList& waiters(Interest interest) noexcept {
    return interest == Interest::read ? readers : writers;
  }
  // WaitList::withdraw for an operation that does not keep its interest (IoOperation, to stay
  // small): unlinking needs the right list only when `node` is that list's head, which the lock
  // keeps from changing while it is checked.
  void withdraw(WaitNode& node) noexcept {
    {
      std::lock_guard guard(lock);
      (writers.front() == &node ? writers : readers).remove(node);
    }
    node.task->forget(node);
  }
};

}  // namespace brigade::runtime::detail
