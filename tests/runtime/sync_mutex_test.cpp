// Mutex<T>: exclusion across workers (also while the guard is held over co_await), try_lock,
// and cancellation of tasks queued for the lock.
#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "brigade/runtime/runtime.hpp"
#include "brigade/runtime/sync/mutex.hpp"
#include "brigade/runtime/time.hpp"

namespace rt = brigade::runtime;

namespace {

enum class Flavor { multi_thread, current_thread };

rt::Runtime make_runtime(Flavor flavor) {
  return flavor == Flavor::multi_thread ? rt::Builder::multi_thread().worker_threads(2).build()
                                        : rt::Builder::current_thread().build();
}

std::string flavor_name(const ::testing::TestParamInfo<Flavor>& info) {
  return info.param == Flavor::multi_thread ? "MultiThread" : "CurrentThread";
}

// Yields to the other tasks until `pred` holds (a scheduling wait, not a timed one).
//
// Callers capture by reference (the caller's frame outlives the wait): GCC 12 destroys a
// temporary argument twice when a coroutine call with a capturing-by-value lambda or brace-made
// object as argument sits in a co_await expression, which double-releases a captured shared_ptr.
template <class Pred>
rt::Task<void> wait_until(Pred pred) {
  while (!pred()) co_await rt::yield_now();
}

class MutexTest : public ::testing::TestWithParam<Flavor> {};

struct Point {
  int x = 0;
  int y = 0;
};

TEST(MutexBasics, TryLockIsExclusiveUntilTheGuardGoes) {
  rt::Mutex<Point> mutex(Point{1, 2});
  std::optional<rt::MutexGuard<Point>> guard = mutex.try_lock();
  ASSERT_TRUE(guard.has_value());
  EXPECT_EQ((*guard)->x, 1);
  (**guard).y = 7;
  EXPECT_FALSE(mutex.try_lock().has_value());
  rt::MutexGuard<Point> moved = std::move(*guard);
  guard.reset();  // a moved-from guard unlocks nothing
  EXPECT_FALSE(mutex.try_lock().has_value());
  EXPECT_EQ(moved->y, 7);
  { rt::MutexGuard<Point> gone = std::move(moved); }
  std::optional<rt::MutexGuard<Point>> again = mutex.try_lock();
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ((*again)->y, 7);
  again.reset();
  EXPECT_EQ(mutex.get_mut().y, 7);
}

// A plain (non-atomic) read-modify-write split by a suspension: only mutual exclusion keeps
// the total exact, and ThreadSanitizer sees any overlap as a data race.
rt::Task<void> increment(std::shared_ptr<rt::Mutex<long>> counter, int times) {
  for (int i = 0; i < times; ++i) {
    rt::MutexGuard<long> guard = co_await counter->lock();
    long seen = *guard;
    if (i % 8 == 0) co_await rt::yield_now();  // hold the lock across a suspension
    *guard = seen + 1;
  }
}

rt::Task<void> run_incrementers(std::shared_ptr<rt::Mutex<long>> counter, int tasks, int times) {
  std::vector<rt::JoinHandle<void>> handles;
  for (int t = 0; t < tasks; ++t) handles.push_back(rt::spawn(increment(counter, times)));
  for (auto& handle : handles) {
    auto result = co_await handle;
    EXPECT_TRUE(result.has_value());
  }
}

TEST_P(MutexTest, CounterIncrementedByManyTasksIsExact) {
  constexpr int kTasks = 8;
  constexpr int kTimes = 2000;
  auto runtime = make_runtime(GetParam());
  auto counter = std::make_shared<rt::Mutex<long>>(0L);
  runtime.block_on(run_incrementers(counter, kTasks, kTimes));
  EXPECT_EQ(counter->get_mut(), long{kTasks} * kTimes);
}

struct Shared {
  rt::Mutex<int> mutex{0};
  std::atomic<bool> started{false};
};

rt::Task<int> lock_and_add(std::shared_ptr<Shared> s, int amount) {
  s->started = true;
  rt::MutexGuard<int> guard = co_await s->mutex.lock();
  *guard += amount;
  co_return *guard;
}

rt::Task<void> lock_waits_for_guard(std::shared_ptr<Shared> s) {
  std::optional<rt::MutexGuard<int>> held = s->mutex.try_lock();
  EXPECT_TRUE(held.has_value());
  auto waiter = rt::spawn(lock_and_add(s, 5));
  co_await wait_until([&s] { return s->started.load(); });
  **held = 10;  // the waiter cannot have the lock yet
  EXPECT_FALSE(waiter.is_finished());
  held.reset();
  auto result = co_await waiter;
  EXPECT_EQ(result.value(), 15);
}

TEST_P(MutexTest, LockWaitsUntilTheGuardIsDropped) {
  auto runtime = make_runtime(GetParam());
  auto s = std::make_shared<Shared>();
  runtime.block_on(lock_waits_for_guard(s));
  EXPECT_EQ(s->mutex.get_mut(), 15);
}

// The locker's next suspension point after its announcement is lock(), so abort() cancels it
// there while it is queued.
rt::Task<void> abort_queued_locker(std::shared_ptr<Shared> s) {
  std::optional<rt::MutexGuard<int>> held = s->mutex.try_lock();
  EXPECT_TRUE(held.has_value());
  auto waiter = rt::spawn(lock_and_add(s, 5));
  co_await wait_until([&s] { return s->started.load(); });
  waiter.abort();
  auto result = co_await waiter;
  EXPECT_TRUE(!result.has_value() && result.error().is_cancelled());
  held.reset();  // must not be handed to the aborted locker
  std::optional<rt::MutexGuard<int>> after = s->mutex.try_lock();
  EXPECT_TRUE(after.has_value());
  after.reset();
  rt::MutexGuard<int> guard = co_await s->mutex.lock();
  EXPECT_EQ(*guard, 0);
}

TEST_P(MutexTest, AbortedQueuedLockerNeverGetsTheLock) {
  auto runtime = make_runtime(GetParam());
  runtime.block_on(abort_queued_locker(std::make_shared<Shared>()));
}

// The lock is handed to the waiter, which is aborted before it runs again (certain on the
// current-thread runtime; on two workers it may finish first). Either way the lock is free
// afterwards. Returns whether the waiter was cancelled.
rt::Task<bool> abort_locker_after_hand_over(std::shared_ptr<Shared> s) {
  std::optional<rt::MutexGuard<int>> held = s->mutex.try_lock();
  EXPECT_TRUE(held.has_value());
  auto waiter = rt::spawn(lock_and_add(s, 5));
  co_await wait_until([&s] { return s->started.load(); });
  held.reset();
  waiter.abort();
  auto result = co_await waiter;
  std::optional<rt::MutexGuard<int>> after = s->mutex.try_lock();
  EXPECT_TRUE(after.has_value());
  if (result.has_value()) {
    EXPECT_EQ(*result, 5);
  }
  co_return !result.has_value() && result.error().is_cancelled();
}

TEST_P(MutexTest, LockHandedToAnAbortedTaskIsReleased) {
  auto runtime = make_runtime(GetParam());
  auto s = std::make_shared<Shared>();
  bool cancelled = runtime.block_on(abort_locker_after_hand_over(s));
  if (GetParam() == Flavor::current_thread) {
    EXPECT_TRUE(cancelled);
    EXPECT_EQ(s->mutex.get_mut(), 0);
  }
}

INSTANTIATE_TEST_SUITE_P(Flavors, MutexTest,
                         ::testing::Values(Flavor::multi_thread, Flavor::current_thread),
                         flavor_name);

}  // namespace
