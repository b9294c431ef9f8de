#pragma once

#include <cassert>
#include <cstdint>

namespace brigade::runtime::detail {

class TimerWheel;

// An entry lives inside the object that waits (e.g. a sleep awaiter); the wheel only links it.
//
// Lifetime rules: remove() an entry (or let it fire) before destroying it; a linked entry must not
// be destroyed or have `deadline` modified (use TimerWheel::insert() to reschedule). Copying an
// entry copies the deadline only: the copy starts unlinked, so an awaiter that owns one stays
// copyable/movable while it is not registered.
struct TimerEntry {
  std::uint64_t deadline = 0;  // absolute tick (ms since the wheel's epoch)

  TimerEntry() = default;
  explicit TimerEntry(std::uint64_t at) noexcept : deadline(at) {}
  TimerEntry(const TimerEntry& other) noexcept : deadline(other.deadline) {}
  // Assigning into a linked entry would silently move its deadline; make callers go via insert().
  TimerEntry& operator=(const TimerEntry&) = delete;
  ~TimerEntry() { assert(!is_linked() && "TimerEntry destroyed while still in a TimerWheel"); }

  bool is_linked() const noexcept { return where_ != kUnlinked; }

 private:
  friend class TimerWheel;

  // `where_` names the list the entry is on, so remove() is O(1) without a back-pointer.
  static constexpr std::uint16_t kUnlinked = 0xFFFF;

  TimerEntry* prev_ = nullptr;
  TimerEntry* next_ = nullptr;
  std::uint16_t where_ = kUnlinked;
};

}  // namespace brigade::runtime::detail
