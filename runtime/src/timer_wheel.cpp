#include "timer_wheel.hpp"

#include <bit>

namespace brigade::runtime::detail {

namespace {

constexpr std::uint64_t kSlotMask = TimerWheel::kSlots - 1;

}  // namespace

TimerWheel::~TimerWheel() {
  auto release = [](List& list) {
    for (TimerEntry* e = list.head; e != nullptr;) {
      TimerEntry* next = e->next_;
      e->prev_ = e->next_ = nullptr;
      e->where_ = TimerEntry::kUnlinked;
      e = next;
    }
    list = {};
  };
  for (unsigned level = 0; level < kLevels; ++level) {
    for (std::uint64_t mask = occupied_[level]; mask != 0; mask &= mask - 1) {
      release(slots_[level][std::countr_zero(mask)]);
    }
  }
  release(pending_);
  release(firing_);
}

TimerWheel::List& TimerWheel::list_at(std::uint16_t where) noexcept {
  if (where == kPending) return pending_;
  if (where == kFiring) return firing_;
  assert(where < kPending);
  return slots_[where / kSlots][where % kSlots];
}

void TimerWheel::push_back(List& list, TimerEntry& e, std::uint16_t where) noexcept {
  e.prev_ = list.tail;
  e.next_ = nullptr;
  if (list.tail != nullptr) {
    list.tail->next_ = &e;
  } else {
    list.head = &e;
  }
  list.tail = &e;
  e.where_ = where;
}

void TimerWheel::unlink(List& list, TimerEntry& e) noexcept {
  if (e.prev_ != nullptr) {
    e.prev_->next_ = e.next_;
  } else {
    list.head = e.next_;
  }
  if (e.next_ != nullptr) {
    e.next_->prev_ = e.prev_;
  } else {
    list.tail = e.prev_;
  }
  e.prev_ = e.next_ = nullptr;
  e.where_ = TimerEntry::kUnlinked;
}

void TimerWheel::insert(TimerEntry& e) noexcept {
  remove(e);  // rescheduling a linked entry is allowed
  if (e.deadline <= elapsed_) {
    push_back(pending_, e, kPending);
  } else {
    place(e);
  }
  ++size_;
}

void TimerWheel::remove(TimerEntry& e) noexcept {
  if (!e.is_linked()) return;
  const std::uint16_t where = e.where_;
  List& list = list_at(where);
  unlink(list, e);
  if (where < kPending && list.empty()) {
    occupied_[where / kSlots] &= ~(std::uint64_t{1} << (where % kSlots));
  }
  --size_;
}

void TimerWheel::place(TimerEntry& e) noexcept {
  assert(e.deadline > elapsed_);
  // Far deadlines are parked at the edge of the wheel; the slot holding them re-places them when
  // it comes due, so they only ever move closer and never fire early.
  const std::uint64_t when =
      e.deadline - elapsed_ > kMaxDuration ? elapsed_ + kMaxDuration : e.deadline;
  // The highest base-64 digit where `when` differs from elapsed_ picks the level: all lower
  // digits are still to come, so the entry needs a slot of exactly that granularity.
  auto level = static_cast<unsigned>(std::bit_width((elapsed_ ^ when) | kSlotMask) - 1) / kSlotBits;
  // Crossing a 2^36 boundary can give level 6; the top level then acts as a ring (see next_slot).
  if (level >= kLevels) level = kLevels - 1;
  const unsigned slot = static_cast<unsigned>((when >> (level * kSlotBits)) & kSlotMask);
  push_back(slots_[level][slot], e, static_cast<std::uint16_t>(level * kSlots + slot));
  occupied_[level] |= std::uint64_t{1} << slot;
}

std::optional<TimerWheel::Expiration> TimerWheel::next_slot() const noexcept {
  // Every occupied slot of level L starts before any occupied slot of level L+1 (a level-L entry
  // shares all digits above L with elapsed_), so the first non-empty level holds the answer.
  for (unsigned level = 0; level < kLevels; ++level) {
    const std::uint64_t mask = occupied_[level];
    if (mask == 0) continue;
    const unsigned shift = level * kSlotBits;
    const unsigned digit = static_cast<unsigned>((elapsed_ >> shift) & kSlotMask);
    const std::uint64_t span = std::uint64_t{1} << (shift + kSlotBits);  // one lap of the level
    const std::uint64_t base = elapsed_ & ~(span - 1);
    // Occupied slots lie strictly after elapsed_'s own digit, except on the top level, where a
    // slot at or before it belongs to the next lap.
    const std::uint64_t ahead = digit == kSlotMask ? 0 : mask & (~std::uint64_t{0} << (digit + 1));
    if (ahead != 0) {
      const auto slot = static_cast<unsigned>(std::countr_zero(ahead));
      return Expiration{level, slot, base + (std::uint64_t{slot} << shift)};
    }
    assert(level == kLevels - 1);
    const auto slot = static_cast<unsigned>(std::countr_zero(mask));
    return Expiration{level, slot, base + span + (std::uint64_t{slot} << shift)};
  }
  return std::nullopt;
}

std::optional<std::uint64_t> TimerWheel::next_expiration() const noexcept {
  if (!pending_.empty() || !firing_.empty()) return elapsed_;
  if (auto exp = next_slot()) return exp->tick;
  return std::nullopt;
}

void TimerWheel::begin_advance() noexcept {
  // Snapshot of what is due now. Entries a callback inserts into pending_ wait for the next call.
  while (TimerEntry* e = pending_.head) {
    unlink(pending_, *e);
    push_back(firing_, *e, kFiring);
  }
}

bool TimerWheel::collect_next_slot(std::uint64_t now) noexcept {
  const std::optional<Expiration> exp = next_slot();
  if (!exp || exp->tick > now) return false;
  // Slots are visited in time order, so moving elapsed_ to this slot's start keeps every other
  // entry's placement valid and lets the cascaded ones be placed relative to it.
  elapsed_ = exp->tick;
  List& slot = slots_[exp->level][exp->slot];
  TimerEntry* e = slot.head;
  slot = {};
  occupied_[exp->level] &= ~(std::uint64_t{1} << exp->slot);
  while (e != nullptr) {
    TimerEntry* next = e->next_;
    // Cascaded entries land on a lower level (or a later top-level slot), never back here.
    if (e->deadline <= elapsed_) {
      push_back(firing_, *e, kFiring);
    } else {
      place(*e);
    }
    e = next;
  }
  return true;
}

TimerEntry* TimerWheel::pop_firing() noexcept {
  TimerEntry* e = firing_.head;
  if (e == nullptr) return nullptr;
  unlink(firing_, *e);
  --size_;
  return e;
}

}  // namespace brigade::runtime::detail
