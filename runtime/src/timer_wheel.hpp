#pragma once

// Hierarchical hashed timer wheel (the data structure behind the time driver).
//
// 6 levels of 64 slots: a level-L slot spans 64^L ms, so level 0 has 1 ms slots and the wheel
// spans 64^6 = 2^36 ms (~2.2 years) ahead of elapsed(). An entry sits in the level of the highest
// base-64 digit in which its deadline differs from elapsed(); as time reaches the start of a
// higher-level slot, that slot's entries are fired or re-placed ("cascade") into lower levels.
//
// Not thread-safe on purpose: the owner (the time driver) serialises every call with its lock.
// No allocation: entries are intrusive and live inside the waiting object.

#include <cassert>
#include <cstddef>
#include <cstdint>
#include <optional>

#include "brigade/runtime/detail/timer_entry.hpp"

namespace brigade::runtime::detail {

class TimerWheel {
 public:
  static constexpr unsigned kLevels = 6;
  static constexpr unsigned kSlotBits = 6;
  static constexpr unsigned kSlots = 1u << kSlotBits;  // per level
  // Farthest placement ahead of elapsed(). Deadlines beyond it are parked in the top level at
  // elapsed() + kMaxDuration and re-placed when that slot comes due: the *placement* is clamped,
  // never the deadline, so they never fire early (each re-placement moves ~2^36 ms ahead).
  static constexpr std::uint64_t kMaxDuration = (std::uint64_t{1} << (kLevels * kSlotBits)) - 1;
  // Time never advances past this (~146 million years), which keeps slot arithmetic free of
  // overflow. Deadlines above it (e.g. UINT64_MAX as "never") are fine: they just never fire.
  static constexpr std::uint64_t kMaxTick = std::uint64_t{1} << 62;

  TimerWheel() = default;  // elapsed starts at 0
  TimerWheel(const TimerWheel&) = delete;
  TimerWheel& operator=(const TimerWheel&) = delete;
  // Unlinks whatever is still registered (without firing it), so those entries may be destroyed.
  ~TimerWheel();

  // O(1). deadline <= elapsed() ⇒ it fires on the next advance(). Inserting an entry that is
  // already linked reschedules it (same as remove() + insert()).
  void insert(TimerEntry& e) noexcept;
  // O(1). No-op if not linked.
  void remove(TimerEntry& e) noexcept;

  // Earliest tick at which advance() may have something to fire: exact for level 0 (and
  // elapsed() when something is already due); for higher levels the start of the slot, so the
  // caller advances there and re-asks. nullopt when empty. Never later than any deadline.
  std::optional<std::uint64_t> next_expiration() const noexcept;

  // Moves time to `now` (monotonic; smaller values are ignored, values above kMaxTick clamp) and
  // calls on_expired(TimerEntry&) for every entry whose deadline <= now, each exactly once, in
  // deadline order (same 1 ms slot: insertion order). The entry is unlinked before the call, so
  // the callback may destroy it, re-insert it, or insert/remove other entries.
  //
  // During a callback elapsed() is the tick being fired. An entry inserted by a callback with a
  // deadline in (elapsed(), now] fires within this call; one with deadline <= elapsed() fires on
  // the *next* advance() — this is what keeps a callback that re-arms "immediately" from looping.
  // Must not be called re-entrantly (from on_expired). If on_expired throws, the entries not yet
  // fired stay registered and fire on the next advance().
  //
  // Cost: O(fired + occupied slots passed over); empty slots are skipped via the bitmaps, so a
  // jump of hours costs a handful of steps, not one per millisecond.
  template <class F>
  void advance(std::uint64_t now, F&& on_expired);

  std::uint64_t elapsed() const noexcept { return elapsed_; }
  std::size_t size() const noexcept { return size_; }
  bool empty() const noexcept { return size_ == 0; }

 private:
  // Non-circular, head+tail so that appending keeps insertion order.
  struct List {
    TimerEntry* head = nullptr;
    TimerEntry* tail = nullptr;
    bool empty() const noexcept { return head == nullptr; }
  };
  struct Expiration {
    unsigned level;
    unsigned slot;
    std::uint64_t tick;  // start of the slot
  };

  // TimerEntry::where_ values besides a slot index (level * kSlots + slot).
  static constexpr std::uint16_t kPending = kLevels * kSlots;  // due, waits for advance()
  static constexpr std::uint16_t kFiring = kPending + 1;       // collected by advance()

  List& list_at(std::uint16_t where) noexcept;
  static void push_back(List& list, TimerEntry& e, std::uint16_t where) noexcept;
  static void unlink(List& list, TimerEntry& e) noexcept;

  // Links e into the wheel slot for its deadline relative to elapsed_ (requires deadline >
  // elapsed_).
  void place(TimerEntry& e) noexcept;
  std::optional<Expiration> next_slot() const noexcept;
  // advance() helpers, out of line so the template stays small.
  void begin_advance() noexcept;
  // Processes the next occupied slot due at or before `now`: moves elapsed_ to it, collects its
  // due entries into firing_ and cascades the rest. False when there is none.
  bool collect_next_slot(std::uint64_t now) noexcept;
  TimerEntry* pop_firing() noexcept;

  std::uint64_t elapsed_ = 0;
  std::size_t size_ = 0;
  std::uint64_t occupied_[kLevels] = {};  // bit s set ⇔ slots_[level][s] non-empty
  List slots_[kLevels][kSlots];
  List pending_;
  List firing_;
};

template <class F>
void TimerWheel::advance(std::uint64_t now, F&& on_expired) {
  if (now > kMaxTick) now = kMaxTick;
  // Entries already due when we were called go first: their deadlines are <= elapsed_.
  begin_advance();
  for (;;) {
    while (TimerEntry* e = pop_firing()) on_expired(*e);
    if (!collect_next_slot(now)) break;
  }
  if (now > elapsed_) elapsed_ = now;
}

}  // namespace brigade::runtime::detail
