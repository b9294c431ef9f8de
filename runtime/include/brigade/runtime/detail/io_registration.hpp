#pragma once

#include <cstdint>
#include <mutex>

#include "brigade/runtime/detail/interest.hpp"
#include "brigade/runtime/detail/spin_lock.hpp"
#include "brigade/runtime/detail/task_header.hpp"

namespace brigade::runtime::detail {

class Driver;

// What a descriptor is ready for, as the driver last saw it. Edge-triggered epoll reports each
// change once, so readiness is remembered here until an operation hits EAGAIN and clears it.
enum Readiness : std::uint8_t {
  kReadable = 1 << 0,
  kWritable = 1 << 1,
  kReadClosed = 1 << 2,   // peer shut down its side (reads will see EOF)
  kWriteClosed = 1 << 3,  // peer gone (writes will fail)
  kError = 1 << 4,
};

// The driver's record of one registered descriptor, with the one reader and one writer that may
// wait on it. Freed by the driver only after an epoll_wait that cannot still report it.
struct IoRegistration {
  IoRegistration(int descriptor, Driver& owner) noexcept : fd(descriptor), driver(owner) {}

  std::uint8_t ready_mask(Interest interest) const noexcept {
    return interest == Interest::read ? (kReadable | kReadClosed | kError)
                                      : (kWritable | kWriteClosed | kError);
  }

  // Ordered so that the small fields share one word: 40 bytes, one malloc chunk of 48.
  const int fd;
  SpinLock lock;
  std::uint8_t readiness = kReadable | kWritable;  // optimistic: try the syscall first
  Driver& driver;
  std::uint64_t tick = 0;  // bumped by every event
  Waiter* reader = nullptr;
  Waiter* writer = nullptr;
  // `readiness`, `tick`, `reader` and `writer` are guarded by `lock`.
};

}  // namespace brigade::runtime::detail
