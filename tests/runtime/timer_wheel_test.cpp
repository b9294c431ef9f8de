// Tests for TimerWheel: the hierarchical timer wheel behind the time driver.
#include "timer_wheel.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <vector>

namespace {

using brigade::runtime::detail::TimerEntry;
using brigade::runtime::detail::TimerWheel;

constexpr std::uint64_t kMs = 1;
constexpr std::uint64_t kSecond = 1000 * kMs;
constexpr std::uint64_t kHour = 3600 * kSecond;

// 64^level: the slot width of a level.
constexpr std::uint64_t slot_width(unsigned level) { return std::uint64_t{1} << (6 * level); }

// An awaiter-like owner of an entry, so the callback can find its test data.
struct Timer : TimerEntry {
  explicit Timer(std::uint64_t at, int id_ = 0) : TimerEntry(at), id(id_) {}
  ~Timer() {
    // Tests must not leak links; check here to get a readable failure instead of an assert.
    EXPECT_FALSE(is_linked()) << "timer " << id << " destroyed while linked";
  }
  int id;
  std::uint64_t seq = 0;       // insertion order
  std::uint64_t fired_at = 0;  // elapsed() at the callback
  int fire_count = 0;
};

Timer& as_timer(TimerEntry& e) { return static_cast<Timer&>(e); }

// Records every firing: (id, elapsed at callback).
struct Recorder {
  TimerWheel* wheel;
  std::vector<int> ids;
  void operator()(TimerEntry& e) {
    Timer& t = as_timer(e);
    EXPECT_FALSE(t.is_linked());
    EXPECT_LE(t.deadline, wheel->elapsed()) << "timer " << t.id << " fired early";
    t.fired_at = wheel->elapsed();
    ++t.fire_count;
    ids.push_back(t.id);
  }
};

// Advances to `now` and returns the ids fired, in order.
std::vector<int> advance(TimerWheel& wheel, std::uint64_t now) {
  Recorder rec{&wheel, {}};
  wheel.advance(now, rec);
  return rec.ids;
}

// Follows next_expiration() until `target` (as a driver would) and returns how many steps it took.
int drive_to(TimerWheel& wheel, std::uint64_t target, Recorder& rec) {
  int steps = 0;
  for (;;) {
    std::optional<std::uint64_t> next = wheel.next_expiration();
    if (!next || *next > target) break;
    EXPECT_GE(*next, wheel.elapsed());
    wheel.advance(*next, rec);
    ++steps;
    if (steps > 10'000) {
      ADD_FAILURE() << "next_expiration() does not make progress";
      break;
    }
  }
  wheel.advance(target, rec);
  return steps;
}

using Ids = std::vector<int>;

TEST(TimerWheel, EmptyWheel) {
  TimerWheel wheel;
  EXPECT_EQ(wheel.elapsed(), 0u);
  EXPECT_EQ(wheel.size(), 0u);
  EXPECT_TRUE(wheel.empty());
  EXPECT_EQ(wheel.next_expiration(), std::nullopt);
  EXPECT_EQ(advance(wheel, 10 * kHour), Ids{});
  EXPECT_EQ(wheel.elapsed(), 10 * kHour);
  // Time is monotonic: going back is ignored.
  EXPECT_EQ(advance(wheel, 5), Ids{});
  EXPECT_EQ(wheel.elapsed(), 10 * kHour);
}

TEST(TimerWheel, FiresAtDeadlineAndNeverEarly) {
  TimerWheel wheel;
  Timer a(10, 1), b(100, 2), c(5000, 3);
  wheel.insert(a);
  wheel.insert(b);
  wheel.insert(c);
  EXPECT_TRUE(a.is_linked());
  EXPECT_EQ(advance(wheel, 9), Ids{});
  EXPECT_EQ(advance(wheel, 10), Ids{1});
  EXPECT_EQ(a.fired_at, 10u);
  EXPECT_FALSE(a.is_linked());
  EXPECT_EQ(advance(wheel, 99), Ids{});
  EXPECT_EQ(advance(wheel, 6000), (Ids{2, 3}));
  // Fired from inside one advance(), each at its own tick.
  EXPECT_EQ(b.fired_at, 100u);
  EXPECT_EQ(c.fired_at, 5000u);
  EXPECT_EQ(wheel.size(), 0u);
  EXPECT_EQ(advance(wheel, 7000), Ids{});
}

TEST(TimerWheel, FiresInDeadlineOrderAcrossLevels) {
  TimerWheel wheel;
  const std::uint64_t deadlines[] = {kHour, 3, 70, 64, 4096 * 3 + 1, 63, 1, 262144, 100 * kHour};
  std::vector<std::unique_ptr<Timer>> timers;
  for (std::uint64_t d : deadlines) {
    timers.push_back(std::make_unique<Timer>(d, static_cast<int>(d % 1'000'000'007)));
    wheel.insert(*timers.back());
  }
  Recorder rec{&wheel, {}};
  wheel.advance(200 * kHour, rec);
  for (const auto& t : timers) {
    EXPECT_EQ(t->fire_count, 1);
    EXPECT_EQ(t->fired_at, t->deadline);
  }
  std::vector<int> expected;
  std::vector<std::uint64_t> sorted(std::begin(deadlines), std::end(deadlines));
  std::sort(sorted.begin(), sorted.end());
  for (std::uint64_t d : sorted) expected.push_back(static_cast<int>(d % 1'000'000'007));
  EXPECT_EQ(rec.ids, expected);
}

TEST(TimerWheel, SameSlotFiresInInsertionOrder) {
  TimerWheel wheel;
  // a and b go into a level-1 slot; at 70 that slot has cascaded, so c goes straight to level 0
  // and must still come after them.
  Timer a(100, 1), b(100, 2), c(100, 3), d(100, 4);
  wheel.insert(a);
  wheel.insert(b);
  EXPECT_EQ(advance(wheel, 70), Ids{});
  wheel.insert(c);
  wheel.insert(d);
  // Removing and re-inserting puts an entry at the back.
  wheel.insert(a);
  EXPECT_EQ(advance(wheel, 100), (Ids{2, 3, 4, 1}));
}

TEST(TimerWheel, CascadeFromEachLevel) {
  for (unsigned level = 0; level < TimerWheel::kLevels; ++level) {
    SCOPED_TRACE(level);
    TimerWheel wheel;
    const std::uint64_t width = slot_width(level);
    // Half a slot plus 7 puts the entry mid-slot on the next two levels down, so it cascades
    // L -> L-1 -> 0 before firing.
    const std::uint64_t deadline = 3 * width + (level > 0 ? width / 2 + 7 : 0);
    Timer t(deadline, 1);
    wheel.insert(t);
    Recorder rec{&wheel, {}};
    wheel.advance(3 * width - 1, rec);  // just before the slot: nothing moves
    if (level > 0) {
      wheel.advance(3 * width, rec);  // slot start: cascade, must not fire
      EXPECT_TRUE(t.is_linked());
      wheel.advance(deadline - 1, rec);
      EXPECT_TRUE(t.is_linked());
    }
    EXPECT_EQ(rec.ids, Ids{});
    wheel.advance(deadline, rec);
    EXPECT_EQ(rec.ids, Ids{1});
    EXPECT_EQ(t.fired_at, deadline);
    EXPECT_EQ(wheel.size(), 0u);
  }
}

TEST(TimerWheel, CascadeFromEachLevelInOneJump) {
  for (unsigned level = 0; level < TimerWheel::kLevels; ++level) {
    SCOPED_TRACE(level);
    TimerWheel wheel;
    const std::uint64_t width = slot_width(level);
    Timer early(2 * width + 1, 1), late(2 * width + 2, 2);
    wheel.insert(late);
    wheel.insert(early);
    EXPECT_EQ(advance(wheel, 2 * width), Ids{});
    EXPECT_EQ(advance(wheel, 5 * width + 5), (Ids{1, 2}));
    EXPECT_EQ(early.fired_at, early.deadline);
    EXPECT_EQ(late.fired_at, late.deadline);
  }
}

TEST(TimerWheel, RemoveBeforeFire) {
  TimerWheel wheel;
  Timer a(50, 1), b(50, 2), c(5 * kHour, 3);
  wheel.insert(a);
  wheel.insert(b);
  wheel.insert(c);
  EXPECT_EQ(wheel.size(), 3u);
  wheel.remove(a);
  wheel.remove(c);
  EXPECT_FALSE(a.is_linked());
  EXPECT_EQ(wheel.size(), 1u);
  wheel.remove(a);  // not linked: no-op
  EXPECT_EQ(wheel.size(), 1u);
  EXPECT_EQ(advance(wheel, 10 * kHour), Ids{2});
  EXPECT_EQ(a.fire_count, 0);
  EXPECT_EQ(c.fire_count, 0);
}

TEST(TimerWheel, RemoveLastEntryOfSlotClearsIt) {
  TimerWheel wheel;
  Timer a(5000, 1), b(9000, 2);
  wheel.insert(a);
  wheel.insert(b);
  wheel.remove(a);
  // The slot holding `a` is now empty, so the next expiration comes from `b`'s slot.
  std::optional<std::uint64_t> next = wheel.next_expiration();
  ASSERT_TRUE(next.has_value());
  EXPECT_GT(*next, 5000u);
  EXPECT_LE(*next, 9000u);
  wheel.remove(b);
  EXPECT_EQ(wheel.next_expiration(), std::nullopt);
}

TEST(TimerWheel, RemoveAfterCascade) {
  for (unsigned level = 1; level < TimerWheel::kLevels; ++level) {
    SCOPED_TRACE(level);
    TimerWheel wheel;
    const std::uint64_t width = slot_width(level);
    Timer t(width + 5, 1);
    wheel.insert(t);
    EXPECT_EQ(advance(wheel, width), Ids{});  // cascades `t` down to level 0
    ASSERT_TRUE(t.is_linked());
    EXPECT_EQ(wheel.next_expiration(), width + 5);
    wheel.remove(t);
    EXPECT_FALSE(t.is_linked());
    EXPECT_EQ(wheel.size(), 0u);
    EXPECT_EQ(wheel.next_expiration(), std::nullopt);
    EXPECT_EQ(advance(wheel, 2 * width + 100), Ids{});
  }
}

TEST(TimerWheel, ReinsertFromCallback) {
  TimerWheel wheel;
  Timer periodic(10, 1);
  wheel.insert(periodic);
  std::vector<std::uint64_t> ticks;
  // A 10 ms interval re-armed from its own callback keeps firing within one advance().
  wheel.advance(1000, [&](TimerEntry& e) {
    ticks.push_back(wheel.elapsed());
    e.deadline += 10;
    wheel.insert(e);
  });
  ASSERT_EQ(ticks.size(), 100u);
  for (std::size_t i = 0; i < ticks.size(); ++i) EXPECT_EQ(ticks[i], 10 * (i + 1));
  EXPECT_TRUE(periodic.is_linked());
  EXPECT_EQ(periodic.deadline, 1010u);
  wheel.remove(periodic);
}

TEST(TimerWheel, ReinsertInThePastFromCallbackWaitsForNextAdvance) {
  TimerWheel wheel;
  Timer t(10, 1);
  wheel.insert(t);
  int calls = 0;
  auto rearm_now = [&](TimerEntry& e) {
    ++calls;
    wheel.insert(e);  // deadline <= elapsed(): must not loop forever
  };
  wheel.advance(20, rearm_now);
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(wheel.next_expiration(), 20u);
  wheel.advance(20, rearm_now);
  EXPECT_EQ(calls, 2);
  wheel.remove(t);
}

TEST(TimerWheel, CallbackMayDestroyAndRemoveOthers) {
  TimerWheel wheel;
  std::map<int, std::unique_ptr<Timer>> owned;
  for (int id = 0; id < 6; ++id) {
    owned[id] = std::make_unique<Timer>(100, id);
    wheel.insert(*owned[id]);
  }
  std::vector<int> fired;
  wheel.advance(100, [&](TimerEntry& e) {
    const int id = as_timer(e).id;
    fired.push_back(id);
    owned.erase(id);  // destroy the firing entry itself
    // Drop the next one too, which is already collected for firing in this same call.
    if (auto it = owned.find(id + 1); it != owned.end() && id % 2 == 0) {
      wheel.remove(*it->second);
      owned.erase(it);
    }
  });
  EXPECT_EQ(fired, (Ids{0, 2, 4}));
  EXPECT_EQ(wheel.size(), 0u);
  EXPECT_TRUE(owned.empty());
}

TEST(TimerWheel, DeadlineInThePast) {
  TimerWheel wheel;
  EXPECT_EQ(advance(wheel, 1000), Ids{});
  Timer past(5, 1), now(1000, 2), zero(0, 3);
  wheel.insert(past);
  wheel.insert(now);
  wheel.insert(zero);
  EXPECT_EQ(wheel.size(), 3u);
  EXPECT_EQ(wheel.next_expiration(), 1000u);
  // Fires on the next advance even if time does not move (or "moves" backwards).
  EXPECT_EQ(advance(wheel, 3), (Ids{1, 2, 3}));
  EXPECT_EQ(wheel.elapsed(), 1000u);
  EXPECT_EQ(past.fired_at, 1000u);
  EXPECT_EQ(wheel.size(), 0u);

  // Removing a due-but-not-fired entry works too.
  Timer gone(1, 4);
  wheel.insert(gone);
  wheel.remove(gone);
  EXPECT_EQ(advance(wheel, 1001), Ids{});
}

TEST(TimerWheel, InsertLinkedEntryReschedules) {
  TimerWheel wheel;
  Timer t(100, 1);
  wheel.insert(t);
  t.deadline = 5000;  // allowed only because we immediately re-insert
  wheel.insert(t);
  EXPECT_EQ(wheel.size(), 1u);
  EXPECT_EQ(advance(wheel, 4999), Ids{});
  EXPECT_EQ(advance(wheel, 5000), Ids{1});
  EXPECT_EQ(t.fire_count, 1);
}

TEST(TimerWheel, ClampsFarDeadlines) {
  TimerWheel wheel;
  const std::uint64_t far = 3 * TimerWheel::kMaxDuration + 12345;
  Timer t(far, 1), never(std::numeric_limits<std::uint64_t>::max(), 2);
  wheel.insert(t);
  wheel.insert(never);
  // Parked at the wheel's edge: the driver wakes up at most ~2^36 ms ahead.
  std::optional<std::uint64_t> next = wheel.next_expiration();
  ASSERT_TRUE(next.has_value());
  EXPECT_LE(*next, TimerWheel::kMaxDuration);
  EXPECT_GT(*next, 0u);

  Recorder rec{&wheel, {}};
  // Following next_expiration(): a few re-placements per lap, not one per millisecond.
  const int steps = drive_to(wheel, far - 1, rec);
  EXPECT_LT(steps, 100);
  EXPECT_EQ(rec.ids, Ids{});
  EXPECT_EQ(wheel.next_expiration(), far);
  wheel.advance(far, rec);
  EXPECT_EQ(rec.ids, Ids{1});
  EXPECT_EQ(t.fired_at, far);

  // One big jump must not fire early either.
  wheel.advance(far + (std::uint64_t{1} << 44), rec);
  EXPECT_EQ(rec.ids, Ids{1});
  EXPECT_TRUE(never.is_linked());
  EXPECT_LE(*wheel.next_expiration(), wheel.elapsed() + TimerWheel::kMaxDuration);
  wheel.remove(never);
}

TEST(TimerWheel, FarDeadlineInOneJump) {
  TimerWheel wheel;
  Timer t((std::uint64_t{1} << 40) + 3, 1);
  wheel.insert(t);
  EXPECT_EQ(advance(wheel, std::uint64_t{1} << 40), Ids{});
  EXPECT_EQ(advance(wheel, (std::uint64_t{1} << 40) + 2), Ids{});
  EXPECT_EQ(advance(wheel, std::uint64_t{1} << 41), Ids{1});
  EXPECT_EQ(t.fired_at, t.deadline);
}

TEST(TimerWheel, TopLevelWrapsAroundTheSpan) {
  const std::uint64_t span = TimerWheel::kMaxDuration + 1;  // 2^36
  const std::uint64_t top = slot_width(5);                  // 2^30
  struct Case {
    std::uint64_t start, deadline;
  };
  const Case cases[] = {
      {span - 10, span + 5},                 // crosses the span boundary by a hair
      {5 * top + 100, span + 5 * top + 50},  // next lap, same top-level slot as now
      {5 * top + 100, span + 4 * top + 77},  // next lap, slot behind now
      {7 * span + 63 * top, 8 * span + 62 * top},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.deadline);
    TimerWheel wheel;
    EXPECT_EQ(advance(wheel, c.start), Ids{});
    Timer t(c.deadline, 1);
    wheel.insert(t);
    std::optional<std::uint64_t> next = wheel.next_expiration();
    ASSERT_TRUE(next.has_value());
    EXPECT_GT(*next, c.start);
    EXPECT_LE(*next, c.deadline);
    Recorder rec{&wheel, {}};
    drive_to(wheel, c.deadline - 1, rec);
    EXPECT_EQ(rec.ids, Ids{});
    EXPECT_EQ(wheel.next_expiration(), c.deadline);
    wheel.advance(c.deadline, rec);
    EXPECT_EQ(rec.ids, Ids{1});
    EXPECT_EQ(t.fired_at, c.deadline);
  }
}

TEST(TimerWheel, NextExpiration) {
  TimerWheel wheel;
  EXPECT_EQ(wheel.next_expiration(), std::nullopt);
  Timer hour(kHour, 1);
  wheel.insert(hour);
  // Higher level: the start of its slot, never after the deadline.
  std::optional<std::uint64_t> next = wheel.next_expiration();
  ASSERT_TRUE(next.has_value());
  EXPECT_GT(*next, 0u);
  EXPECT_LE(*next, kHour);

  Timer soon(42, 2);
  wheel.insert(soon);
  EXPECT_EQ(wheel.next_expiration(), 42u);  // level 0: exact
  EXPECT_EQ(advance(wheel, 42), Ids{2});

  // Driving by next_expiration() reaches the hour exactly, in few steps.
  Recorder rec{&wheel, {}};
  int steps = 0;
  while (rec.ids.empty()) {
    next = wheel.next_expiration();
    ASSERT_TRUE(next.has_value());
    ASSERT_LE(*next, kHour);
    wheel.advance(*next, rec);
    ASSERT_LT(++steps, 20);
  }
  EXPECT_EQ(rec.ids, Ids{1});
  EXPECT_EQ(hour.fired_at, kHour);
  EXPECT_EQ(wheel.next_expiration(), std::nullopt);

  Timer due(wheel.elapsed(), 3);
  wheel.insert(due);
  EXPECT_EQ(wheel.next_expiration(), wheel.elapsed());
  wheel.remove(due);
  EXPECT_EQ(wheel.next_expiration(), std::nullopt);
}

TEST(TimerWheel, Size) {
  TimerWheel wheel;
  std::vector<std::unique_ptr<Timer>> timers;
  for (int i = 0; i < 100; ++i) {
    timers.push_back(std::make_unique<Timer>(static_cast<std::uint64_t>(i) * 1000, i));
    wheel.insert(*timers.back());
    EXPECT_EQ(wheel.size(), static_cast<std::size_t>(i + 1));
  }
  wheel.insert(*timers[50]);  // re-insert: still counted once
  EXPECT_EQ(wheel.size(), 100u);
  wheel.remove(*timers[99]);
  EXPECT_EQ(wheel.size(), 99u);
  std::size_t seen_in_callback = 0;
  wheel.advance(49'500, [&](TimerEntry&) { seen_in_callback = wheel.size(); });
  EXPECT_EQ(seen_in_callback, 99u - 50u);  // already unlinked when called
  EXPECT_EQ(wheel.size(), 49u);
  for (auto& t : timers) wheel.remove(*t);
  EXPECT_EQ(wheel.size(), 0u);
}

TEST(TimerWheel, DestructorUnlinksRemainingEntries) {
  Timer a(10, 1), b(kHour, 2), c(0, 3);
  {
    TimerWheel wheel;
    wheel.insert(a);
    wheel.insert(b);
    wheel.insert(c);
  }
  EXPECT_FALSE(a.is_linked());
  EXPECT_FALSE(b.is_linked());
  EXPECT_FALSE(c.is_linked());
}

TEST(TimerWheel, CopiedEntryIsUnlinked) {
  TimerWheel wheel;
  TimerEntry e(77);
  wheel.insert(e);
  TimerEntry copy(e);
  EXPECT_EQ(copy.deadline, 77u);
  EXPECT_FALSE(copy.is_linked());
  wheel.remove(e);
}

TEST(TimerWheel, LongJumpsSkipEmptySlots) {
  // Hours of wheel time with sparse timers: per-millisecond stepping would take ~10^10 steps.
  TimerWheel wheel;
  std::vector<std::unique_ptr<Timer>> timers;
  for (int i = 0; i < 1000; ++i) {
    timers.push_back(std::make_unique<Timer>(static_cast<std::uint64_t>(i + 1) * 7 * kHour, i));
    wheel.insert(*timers.back());
  }
  std::vector<int> fired = advance(wheel, 10'000 * kHour);
  ASSERT_EQ(fired.size(), 1000u);
  for (std::size_t i = 0; i < timers.size(); ++i) {
    EXPECT_EQ(fired[i], timers[i]->id);
    EXPECT_EQ(timers[i]->fired_at, timers[i]->deadline);
  }
}

// Random operations checked against a brute-force model: a map of what is linked and when it is
// due. Callbacks randomly re-arm, destroy, and remove other timers.
class Model {
 public:
  explicit Model(std::uint32_t seed) : rng_(seed) {}

  void run(int ops) {
    for (int i = 0; i < ops; ++i) {
      const std::uint32_t op = pick(100);
      if (op < 45) {
        insert_new();
      } else if (op < 55) {
        remove_random();
      } else if (op < 60) {
        reschedule_random();
      } else {
        advance_random();
      }
      check_invariants();
      if (::testing::Test::HasFailure()) return;
    }
    // Drain: everything finite must eventually fire.
    const std::uint64_t end = wheel_.elapsed() + 4 * TimerWheel::kMaxDuration;
    advance_to(end);
    advance_to(end);  // deferred re-arms from the previous call
    for (auto& [id, t] : timers_) {
      if (t->is_linked()) {
        EXPECT_GT(t->deadline, wheel_.elapsed());
        wheel_.remove(*t);
      }
    }
    EXPECT_EQ(wheel_.size(), 0u);
    EXPECT_GT(fired_total_, 0);
  }

 private:
  struct Expect {
    std::uint64_t deadline;
    bool exact;     // inserted ahead of elapsed(): must fire with elapsed() == deadline
    bool deferred;  // inserted by a callback in the past: may wait until the next advance()
  };

  std::uint32_t pick(std::uint32_t n) {
    return std::uniform_int_distribution<std::uint32_t>(0, n - 1)(rng_);
  }
  std::uint64_t pick64(std::uint64_t lo, std::uint64_t hi) {
    return std::uniform_int_distribution<std::uint64_t>(lo, hi)(rng_);
  }

  // Deadlines around elapsed(), spread over every level plus past and far-beyond-the-span ones.
  std::uint64_t random_deadline() {
    const std::uint64_t now = wheel_.elapsed();
    switch (pick(8)) {
      case 0:
        return now - std::min(now, pick64(0, 100));  // past or now
      case 1:
        return now + pick64(1, 64);
      case 2:
        return now + pick64(1, 4096);
      case 3:
        return now + pick64(1, 300'000);
      case 4:
        return now + pick64(1, 20'000'000);
      case 5:
        return now + pick64(1, std::uint64_t{1} << 32);
      case 6:
        return now + pick64(1, std::uint64_t{1} << 38);  // partly beyond the span
      default:
        // Exact level boundaries are where off-by-one errors live.
        return (now | (slot_width(pick(6)) - 1)) + pick64(0, 2);
    }
  }

  void do_insert(Timer& t, bool in_callback) {
    t.seq = next_seq_++;
    wheel_.insert(t);
    const bool ahead = t.deadline > wheel_.elapsed();
    expected_[t.id] = Expect{t.deadline, ahead, in_callback && !ahead};
  }

  void insert_new() {
    const int id = next_id_++;
    auto t = std::make_unique<Timer>(random_deadline(), id);
    Timer& ref = *t;
    timers_.emplace(id, std::move(t));
    do_insert(ref, false);
  }

  Timer* random_timer() {
    if (timers_.empty()) return nullptr;
    auto it = timers_.lower_bound(static_cast<int>(pick(static_cast<std::uint32_t>(next_id_))));
    if (it == timers_.end()) it = timers_.begin();
    return it->second.get();
  }

  void remove_random() {
    Timer* t = random_timer();
    if (t == nullptr) return;
    wheel_.remove(*t);
    expected_.erase(t->id);
    if (pick(2) == 0) timers_.erase(t->id);
  }

  void reschedule_random() {
    Timer* t = random_timer();
    if (t == nullptr) return;
    t->deadline = random_deadline();
    do_insert(*t, false);
  }

  void advance_random() {
    std::uint64_t step = 0;
    switch (pick(6)) {
      case 0:
        step = 0;
        break;
      case 1:
        step = pick64(1, 10);
        break;
      case 2:
        step = pick64(1, 5000);
        break;
      case 3:
        step = pick64(1, 5'000'000);
        break;
      case 4:
        step = pick64(1, 100 * kHour);  // big jump
        break;
      default:
        step = pick64(1, std::uint64_t{1} << 37);  // beyond the span
        break;
    }
    // Sometimes a stale "now" from a slower clock reader.
    const std::uint64_t now = pick(10) == 0 ? wheel_.elapsed() / 2 : wheel_.elapsed() + step;
    advance_to(now);
  }

  void advance_to(std::uint64_t now) {
    for (auto& [id, e] : expected_) e.deferred = false;
    const std::uint64_t start = wheel_.elapsed();
    const std::uint64_t target = std::max(now, start);
    std::uint64_t last_exact_deadline = 0;
    std::uint64_t last_exact_seq = 0;
    wheel_.advance(now, [&](TimerEntry& e) {
      Timer& t = as_timer(e);
      const int id = t.id;
      ++fired_total_;
      EXPECT_FALSE(t.is_linked());
      auto it = expected_.find(id);
      if (it == expected_.end()) {
        ADD_FAILURE() << "timer " << id << " fired but was not registered (or fired twice)";
        return;
      }
      const Expect exp = it->second;
      expected_.erase(it);
      const std::uint64_t elapsed = wheel_.elapsed();
      EXPECT_EQ(t.deadline, exp.deadline);
      EXPECT_LE(t.deadline, elapsed) << "fired early";
      EXPECT_LE(elapsed, target);
      if (exp.exact) {
        EXPECT_EQ(elapsed, t.deadline) << "fired late within advance()";
        // Deadline order; same deadline (same 1 ms slot) in insertion order.
        EXPECT_TRUE(t.deadline > last_exact_deadline ||
                    (t.deadline == last_exact_deadline && t.seq > last_exact_seq))
            << "order: " << t.deadline << "/" << t.seq << " after " << last_exact_deadline << "/"
            << last_exact_seq;
        last_exact_deadline = t.deadline;
        last_exact_seq = t.seq;
      }
      switch (pick(6)) {
        case 0:
          timers_.erase(id);  // destroy it from its own callback
          break;
        case 1:
          t.deadline = random_deadline();
          do_insert(t, true);
          break;
        case 2:
          if (Timer* other = random_timer(); other != nullptr) {
            wheel_.remove(*other);
            expected_.erase(other->id);
          }
          break;
        default:
          break;
      }
    });
    EXPECT_EQ(wheel_.elapsed(), target);
    // Everything due must have fired, apart from past-deadline re-arms made by callbacks.
    for (const auto& [id, e] : expected_) {
      if (!e.deferred) {
        EXPECT_GT(e.deadline, target) << "timer " << id << " missed";
      }
    }
  }

  void check_invariants() {
    EXPECT_EQ(wheel_.size(), expected_.size());
    std::optional<std::uint64_t> next = wheel_.next_expiration();
    if (expected_.empty()) {
      EXPECT_EQ(next, std::nullopt);
      return;
    }
    std::uint64_t min_deadline = std::numeric_limits<std::uint64_t>::max();
    for (const auto& [id, e] : expected_) min_deadline = std::min(min_deadline, e.deadline);
    ASSERT_TRUE(next.has_value());
    EXPECT_GE(*next, wheel_.elapsed());
    // Never later than the earliest deadline (or now, if that is already due).
    EXPECT_LE(*next, std::max(min_deadline, wheel_.elapsed()));
    if (min_deadline > wheel_.elapsed()) {
      EXPECT_GT(*next, wheel_.elapsed());
      // Within the level-0 window the answer is exact.
      if ((min_deadline >> 6) == (wheel_.elapsed() >> 6)) {
        EXPECT_EQ(*next, min_deadline);
      }
    }
  }

  std::mt19937_64 rng_;
  TimerWheel wheel_;
  std::map<int, std::unique_ptr<Timer>> timers_;
  std::map<int, Expect> expected_;
  int next_id_ = 0;
  std::uint64_t next_seq_ = 1;
  int fired_total_ = 0;

 public:
  ~Model() {
    // Unlink before the timers die (they are destroyed before the wheel, as declared after it).
    for (auto& [id, t] : timers_) wheel_.remove(*t);
  }
};

TEST(TimerWheel, RandomAgainstBruteForceModel) {
  for (std::uint32_t seed = 1; seed <= 40; ++seed) {
    SCOPED_TRACE(seed);
    Model model(seed);
    model.run(3000);
    if (HasFailure()) break;
  }
}

// Many timers per slot and per level, moved mostly by small steps: stresses cascades and FIFO.
TEST(TimerWheel, RandomDenseSmallSteps) {
  std::mt19937_64 rng(12345);
  TimerWheel wheel;
  std::vector<std::unique_ptr<Timer>> timers;
  std::multimap<std::uint64_t, int> model;  // deadline -> id, in insertion order per deadline
  for (int i = 0; i < 5000; ++i) {
    const std::uint64_t d = std::uniform_int_distribution<std::uint64_t>(0, 300'000)(rng);
    timers.push_back(std::make_unique<Timer>(d, i));
    wheel.insert(*timers.back());
    model.emplace(d, i);
  }
  std::vector<int> expected;
  for (const auto& [d, id] : model) expected.push_back(id);
  Recorder rec{&wheel, {}};
  std::uint64_t now = 0;
  while (now < 310'000) {
    now += std::uniform_int_distribution<std::uint64_t>(0, 700)(rng);
    wheel.advance(now, rec);
  }
  EXPECT_EQ(rec.ids, expected);
  for (const auto& t : timers) {
    EXPECT_EQ(t->fire_count, 1);
    // d == 0 was due at insert time and fired on the first advance.
    if (t->deadline > 0) {
      EXPECT_EQ(t->fired_at, t->deadline);
    }
  }
}

}  // namespace
