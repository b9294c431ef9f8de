// Semaphore: permits, fairness, close, and cancellation of queued acquirers on the real runtime.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "brigade/runtime/runtime.hpp"
#include "brigade/runtime/sync/semaphore.hpp"
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

// What the tasks of one test share; each task owns a reference.
struct Shared {
  explicit Shared(std::size_t permits) : sem(permits) {}
  rt::Semaphore sem;
  std::atomic<bool> started{false};
  std::atomic<int> inside{0};
  std::atomic<int> max_inside{0};
  std::atomic<long> acquisitions{0};
};

// Takes `n` permits and reports how many it got (-1: the semaphore was closed).
rt::Task<long> acquire_n(std::shared_ptr<Shared> s, std::size_t n) {
  s->started = true;
  auto permit = co_await s->sem.acquire(n);
  if (!permit) co_return -1;
  co_return static_cast<long>(permit->count());
}

class SemaphoreTest : public ::testing::TestWithParam<Flavor> {};

TEST(SemaphoreBasics, TryAcquireTakesAndPermitGivesBack) {
  rt::Semaphore sem(3);
  std::optional<rt::SemaphorePermit> two = sem.try_acquire(2);
  ASSERT_TRUE(two.has_value());
  EXPECT_EQ(two->count(), 2U);
  EXPECT_EQ(sem.available_permits(), 1U);
  EXPECT_FALSE(sem.try_acquire(2).has_value());
  {
    std::optional<rt::SemaphorePermit> one = sem.try_acquire();
    ASSERT_TRUE(one.has_value());
    EXPECT_EQ(sem.available_permits(), 0U);
  }
  EXPECT_EQ(sem.available_permits(), 1U);
  two.reset();
  EXPECT_EQ(sem.available_permits(), 3U);
}

TEST(SemaphoreBasics, ForgottenPermitShrinksTheSemaphore) {
  rt::Semaphore sem(2);
  {
    std::optional<rt::SemaphorePermit> permit = sem.try_acquire();
    ASSERT_TRUE(permit.has_value());
    permit->forget();
    EXPECT_EQ(permit->count(), 0U);
  }
  EXPECT_EQ(sem.available_permits(), 1U);
  sem.add_permits(4);
  EXPECT_EQ(sem.available_permits(), 5U);
  sem.release(1);
  EXPECT_EQ(sem.available_permits(), 6U);
}

TEST(SemaphoreBasics, MovedPermitReleasesOnce) {
  rt::Semaphore sem(3);
  rt::SemaphorePermit a = *sem.try_acquire(1);
  rt::SemaphorePermit b = *sem.try_acquire(2);
  EXPECT_EQ(sem.available_permits(), 0U);
  b = std::move(a);  // b's two permits go back; b now holds a's one
  EXPECT_EQ(sem.available_permits(), 2U);
  EXPECT_EQ(b.count(), 1U);
  EXPECT_EQ(a.count(), 0U);  // NOLINT(bugprone-use-after-move): moved-from state is specified
  rt::SemaphorePermit c(std::move(b));
  EXPECT_EQ(sem.available_permits(), 2U);
  c = rt::SemaphorePermit();
  EXPECT_EQ(sem.available_permits(), 3U);
}

TEST(SemaphoreBasics, CloseFailsTryAcquireButKeepsCounting) {
  rt::Semaphore sem(2);
  std::optional<rt::SemaphorePermit> held = sem.try_acquire();
  sem.close();
  EXPECT_TRUE(sem.is_closed());
  EXPECT_FALSE(sem.try_acquire().has_value());
  held.reset();
  EXPECT_EQ(sem.available_permits(), 2U);
}

rt::Task<long> acquire_ready(std::shared_ptr<Shared> s) {
  auto permit = co_await s->sem.acquire(2);
  if (!permit) co_return -1;
  EXPECT_EQ(s->sem.available_permits(), 1U);
  co_return static_cast<long>(permit->count());
}

TEST_P(SemaphoreTest, AcquireWithPermitsAvailableCompletesAtOnce) {
  auto runtime = make_runtime(GetParam());
  auto s = std::make_shared<Shared>(3);
  EXPECT_EQ(runtime.block_on(acquire_ready(s)), 2);
  EXPECT_EQ(s->sem.available_permits(), 3U);
}

// One permit is there, the waiter wants two: it takes the one (available drops to 0, which is
// how the test sees it queued) and gets the second from release().
rt::Task<long> waiter_woken_by_release(std::shared_ptr<Shared> s) {
  auto handle = rt::spawn(acquire_n(s, 2));
  co_await wait_until([&s] { return s->sem.available_permits() == 0; });
  EXPECT_FALSE(handle.is_finished());
  s->sem.release(1);
  auto result = co_await handle;
  co_return result.value();
}

TEST_P(SemaphoreTest, QueuedAcquirerIsWokenByRelease) {
  auto runtime = make_runtime(GetParam());
  auto s = std::make_shared<Shared>(1);
  EXPECT_EQ(runtime.block_on(waiter_woken_by_release(s)), 2);
  EXPECT_EQ(s->sem.available_permits(), 2U);
}

// Records the order in which acquirers got their permits.
struct OrderLog {
  std::atomic<int> next{0};
  std::atomic<int> big_rank{-1};
  std::atomic<int> small_rank{-1};
};

rt::Task<void> take_and_log(std::shared_ptr<Shared> s, std::shared_ptr<OrderLog> log, std::size_t n,
                            bool big) {
  if (!big) s->started = true;
  auto permit = co_await s->sem.acquire(n);
  EXPECT_TRUE(permit.has_value());
  (big ? log->big_rank : log->small_rank) = log->next++;
}

rt::Task<void> large_request_blocks_small(std::shared_ptr<Shared> s) {
  auto log = std::make_shared<OrderLog>();
  auto big = rt::spawn(take_and_log(s, log, 3, true));
  co_await wait_until([&s] { return s->sem.available_permits() == 0; });  // big is queued
  auto small = rt::spawn(take_and_log(s, log, 1, false));
  co_await wait_until([&s] { return s->started.load(); });
  // One permit comes back: the small request could use it, but the big one is ahead.
  s->sem.release(1);
  EXPECT_EQ(s->sem.available_permits(), 0U);
  EXPECT_FALSE(s->sem.try_acquire(1).has_value());
  EXPECT_EQ(log->next.load(), 0);
  s->sem.release(1);  // the big request has its three
  (void)co_await big;
  (void)co_await small;
  EXPECT_EQ(log->big_rank.load(), 0);
  EXPECT_EQ(log->small_rank.load(), 1);
}

TEST_P(SemaphoreTest, LargeRequestAtTheHeadBlocksLaterSmallOnes) {
  auto runtime = make_runtime(GetParam());
  auto s = std::make_shared<Shared>(1);
  runtime.block_on(large_request_blocks_small(s));
  EXPECT_EQ(s->sem.available_permits(), 3U);
}

rt::Task<void> close_fails_waiters(std::shared_ptr<Shared> s) {
  std::optional<rt::SemaphorePermit> held = s->sem.try_acquire(1);
  EXPECT_TRUE(held.has_value());
  auto waiter = rt::spawn(acquire_n(s, 2));  // takes the other permit and queues for one more
  co_await wait_until([&s] { return s->sem.available_permits() == 0; });
  s->sem.close();
  auto result = co_await waiter;
  EXPECT_EQ(result.value(), -1);
  EXPECT_EQ(s->sem.available_permits(), 1U);  // the permit set aside for the waiter came back
  auto later = co_await s->sem.acquire();
  EXPECT_FALSE(later.has_value());
  EXPECT_EQ(later.error(), rt::AcquireError{});
  held.reset();  // permits held at close still go back
  EXPECT_EQ(s->sem.available_permits(), 2U);
}

TEST_P(SemaphoreTest, ClosePendingAndLaterAcquiresFail) {
  auto runtime = make_runtime(GetParam());
  runtime.block_on(close_fails_waiters(std::make_shared<Shared>(2)));
}

rt::Task<void> abort_queued_acquirer(std::shared_ptr<Shared> s) {
  auto waiter = rt::spawn(acquire_n(s, 2));
  co_await wait_until([&s] { return s->sem.available_permits() == 0; });
  waiter.abort();
  auto result = co_await waiter;
  EXPECT_FALSE(result.has_value());
  EXPECT_TRUE(!result.has_value() && result.error().is_cancelled());
  EXPECT_EQ(s->sem.available_permits(), 1U);  // its share came back
  auto permit = s->sem.try_acquire();         // and a later acquirer gets it
  EXPECT_TRUE(permit.has_value());
}

TEST_P(SemaphoreTest, AbortedQueuedAcquirerGivesBackItsShare) {
  auto runtime = make_runtime(GetParam());
  auto s = std::make_shared<Shared>(1);
  runtime.block_on(abort_queued_acquirer(s));
  EXPECT_EQ(s->sem.available_permits(), 1U);
}

// The waiter is granted its permits and aborted before it runs again. On the current-thread
// runtime that order is certain (this task holds the thread); on two workers the waiter may
// also win the race and finish: either way every permit comes back.
rt::Task<bool> abort_granted_acquirer(std::shared_ptr<Shared> s) {
  auto waiter = rt::spawn(acquire_n(s, 2));
  co_await wait_until([&s] { return s->sem.available_permits() == 0; });
  s->sem.release(1);
  waiter.abort();
  auto result = co_await waiter;
  if (result.has_value()) {
    EXPECT_EQ(*result, 2);
  }
  EXPECT_EQ(s->sem.available_permits(), 2U);
  auto both = s->sem.try_acquire(2);
  EXPECT_TRUE(both.has_value());
  co_return !result.has_value() && result.error().is_cancelled();
}

TEST_P(SemaphoreTest, AbortedAcquirerThatWasGrantedReturnsThePermits) {
  auto runtime = make_runtime(GetParam());
  auto s = std::make_shared<Shared>(1);
  bool cancelled = runtime.block_on(abort_granted_acquirer(s));
  if (GetParam() == Flavor::current_thread) {
    EXPECT_TRUE(cancelled);
  }
  EXPECT_EQ(s->sem.available_permits(), 2U);
}

rt::Task<void> abort_head_unblocks_next(std::shared_ptr<Shared> s) {
  auto head = rt::spawn(acquire_n(s, 3));
  co_await wait_until([&s] { return s->sem.available_permits() == 0; });
  auto next = rt::spawn(acquire_n(s, 1));
  co_await wait_until([&s] { return s->started.load(); });
  head.abort();  // its one permit goes to the next in line
  auto head_result = co_await head;
  EXPECT_TRUE(!head_result.has_value() && head_result.error().is_cancelled());
  auto next_result = co_await next;
  EXPECT_EQ(next_result.value(), 1);
}

TEST_P(SemaphoreTest, AbortedHeadPassesItsShareToTheNextWaiter) {
  auto runtime = make_runtime(GetParam());
  auto s = std::make_shared<Shared>(1);
  runtime.block_on(abort_head_unblocks_next(s));
  EXPECT_EQ(s->sem.available_permits(), 1U);
}

rt::Task<void> hold_across_yield(std::shared_ptr<Shared> s, int iterations) {
  for (int i = 0; i < iterations; ++i) {
    auto permit = co_await s->sem.acquire();
    EXPECT_TRUE(permit.has_value());
    int now = ++s->inside;
    int seen = s->max_inside.load();
    while (now > seen && !s->max_inside.compare_exchange_weak(seen, now)) {
    }
    ++s->acquisitions;
    co_await rt::yield_now();  // hold the permit across a suspension
    --s->inside;
  }
}

rt::Task<void> run_contenders(std::shared_ptr<Shared> s, int tasks, int iterations) {
  std::vector<rt::JoinHandle<void>> handles;
  for (int t = 0; t < tasks; ++t) handles.push_back(rt::spawn(hold_across_yield(s, iterations)));
  for (auto& handle : handles) {
    auto result = co_await handle;
    EXPECT_TRUE(result.has_value());
  }
}

TEST_P(SemaphoreTest, PermitsBoundConcurrencyAcrossWorkers) {
  constexpr int kTasks = 16;
  constexpr int kIterations = 300;
  auto runtime = make_runtime(GetParam());
  auto s = std::make_shared<Shared>(3);
  runtime.block_on(run_contenders(s, kTasks, kIterations));
  EXPECT_EQ(s->acquisitions.load(), kTasks * kIterations);
  EXPECT_LE(s->max_inside.load(), 3);
  EXPECT_GE(s->max_inside.load(), 1);
  EXPECT_EQ(s->inside.load(), 0);
  EXPECT_EQ(s->sem.available_permits(), 3U);
}

rt::Task<void> acquire_forever(std::shared_ptr<Shared> s, std::size_t n) {
  for (;;) {
    auto permit = co_await s->sem.acquire(n);
    EXPECT_TRUE(permit.has_value());
    ++s->acquisitions;
    co_await rt::yield_now();
  }
}

rt::Task<void> aborts_amid_contention(std::shared_ptr<Shared> s) {
  constexpr int kFinite = 6;
  constexpr int kEndless = 6;
  std::vector<rt::JoinHandle<void>> endless;
  std::vector<rt::JoinHandle<void>> finite;
  for (int t = 0; t < kEndless; ++t) endless.push_back(rt::spawn(acquire_forever(s, 1 + t % 2)));
  for (int t = 0; t < kFinite; ++t) finite.push_back(rt::spawn(hold_across_yield(s, 200)));
  for (auto& handle : finite) {
    auto result = co_await handle;
    EXPECT_TRUE(result.has_value());
  }
  // The endless ones are now queued, granted but not yet resumed, or holding permits.
  for (auto& handle : endless) handle.abort();
  for (auto& handle : endless) {
    auto result = co_await handle;
    EXPECT_TRUE(!result.has_value() && result.error().is_cancelled());
  }
  EXPECT_EQ(s->sem.available_permits(), 2U);
  auto all = s->sem.try_acquire(2);
  EXPECT_TRUE(all.has_value());
}

TEST_P(SemaphoreTest, AbortsAmidContentionLoseNoPermit) {
  auto runtime = make_runtime(GetParam());
  auto s = std::make_shared<Shared>(2);
  runtime.block_on(aborts_amid_contention(s));
  EXPECT_EQ(s->sem.available_permits(), 2U);
  EXPECT_GE(s->acquisitions.load(), 6 * 200);
}

rt::Task<long> moved_acquire(std::shared_ptr<Shared> s) {
  rt::Semaphore::Acquire first = s->sem.acquire(2);
  rt::Semaphore::Acquire second = std::move(first);  // awaiters may move until awaited
  auto permit = co_await std::move(second);
  co_return permit ? static_cast<long>(permit->count()) : -1;
}

TEST_P(SemaphoreTest, AcquireAwaiterCanMoveBeforeItIsAwaited) {
  auto runtime = make_runtime(GetParam());
  EXPECT_EQ(runtime.block_on(moved_acquire(std::make_shared<Shared>(2))), 2);
}

INSTANTIATE_TEST_SUITE_P(Flavors, SemaphoreTest,
                         ::testing::Values(Flavor::multi_thread, Flavor::current_thread),
                         flavor_name);

}  // namespace
