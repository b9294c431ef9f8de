// Tests for the blocking pool, driven directly (no async runtime): closures are wrapped in
// BlockingCells and submitted by hand, and outcomes are read once the handle reports finished.
// No assertion depends on wall-clock time; waits are only bounded so a broken pool fails instead
// of hanging.
#include "blocking_pool.hpp"

#include <gtest/gtest.h>
#include <pthread.h>
#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <expected>
#include <latch>
#include <memory>
#include <mutex>
#include <optional>
#include <source_location>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "brigade/runtime/detail/task_cell.hpp"
#include "brigade/runtime/join_error.hpp"
#include "brigade/runtime/join_handle.hpp"

namespace brigade::runtime::detail {
namespace {

using namespace std::chrono_literals;

// Upper bound for every wait: generous, so a slow sanitizer build never trips it.
constexpr auto kBound = 10s;

// Polls `condition` until it holds; false if it still does not after kBound.
template <class Predicate>
bool eventually(Predicate condition) {
  const auto give_up_at = std::chrono::steady_clock::now() + kBound;
  while (!condition()) {
    if (std::chrono::steady_clock::now() > give_up_at) return false;
    std::this_thread::sleep_for(1ms);
  }
  return true;
}

// Where closures block until the test lets them go. The wait is bounded (returns false when it
// gives up) so that a failing test cannot hang the pool's shutdown.
class Gate {
 public:
  void open() {
    std::lock_guard guard(mutex_);
    open_ = true;
    opened_.notify_all();
  }
  bool wait() {
    std::unique_lock lock(mutex_);
    return opened_.wait_for(lock, kBound, [this] { return open_; });
  }

 private:
  std::mutex mutex_;
  std::condition_variable opened_;
  bool open_ = false;
};

template <class T>
struct Spawned {
  JoinHandle<T> handle;
  JoinState<T>* state;  // kept alive by `handle`'s reference
  bool accepted;
};

// What spawn_blocking does, against `pool` instead of a runtime.
template <class F>
auto submit_to(BlockingPool& pool, F fn,
               std::source_location where = std::source_location::current()) {
  using T = std::invoke_result_t<F&>;
  auto* cell = make_cell<BlockingCell<T, F>>(std::move(fn), &pool, where);
  const bool accepted = pool.submit(cell);
  if (!accepted) {
    cell->reject();
    cell->unref();  // the queue's reference, never taken
  }
  return Spawned<T>{JoinHandle<T>(cell), cell, accepted};
}

// The task's outcome once it has finished; nullopt if it does not finish within kBound.
template <class T>
std::optional<std::expected<T, JoinError>> join(Spawned<T>& spawned) {
  if (!eventually([&] { return spawned.handle.is_finished(); })) return std::nullopt;
  return spawned.state->take_outcome();
}

BlockingPool::Options with_keep_alive(std::chrono::milliseconds keep_alive) {
  BlockingPool::Options options;
  options.keep_alive = keep_alive;
  return options;
}

class BlockingPoolTest : public ::testing::Test {
 protected:
  BlockingPool& make_pool(BlockingPool::Options options = {}) {
    pool_.emplace(std::move(options));
    return *pool_;
  }

  // Let blocked closures go before the pool's destructor waits for them.
  void TearDown() override {
    gate_.open();
    pool_.reset();
  }

  Gate gate_;  // declared first: outlives the pool and the closures waiting on it
  std::optional<BlockingPool> pool_;
};

TEST_F(BlockingPoolTest, ReturnsTheClosuresValue) {
  auto& pool = make_pool();
  auto number = submit_to(pool, [] { return 42; });
  auto pointer = submit_to(pool, [] { return std::make_unique<std::string>("moved out"); });
  std::atomic<bool> ran{false};
  auto nothing = submit_to(pool, [&ran] { ran.store(true); });

  auto n = join(number);
  ASSERT_TRUE(n.has_value());
  ASSERT_TRUE(n->has_value());
  EXPECT_EQ(**n, 42);
  auto p = join(pointer);
  ASSERT_TRUE(p.has_value());
  ASSERT_TRUE(p->has_value());
  EXPECT_EQ(***p, "moved out");
  auto v = join(nothing);
  ASSERT_TRUE(v.has_value());
  EXPECT_TRUE(v->has_value());
  EXPECT_TRUE(ran.load());
  EXPECT_EQ(pool.spawned_total(), 3u);
  EXPECT_EQ(pool.rejected_total(), 0u);
}

TEST_F(BlockingPoolTest, AnExceptionBecomesAPanicCarryingIt) {
  auto& pool = make_pool();
  auto spawned = submit_to(pool, []() -> int { throw std::runtime_error("boom"); });

  auto outcome = join(spawned);
  ASSERT_TRUE(outcome.has_value());
  ASSERT_FALSE(outcome->has_value());
  const JoinError& error = outcome->error();
  EXPECT_TRUE(error.is_panic());
  EXPECT_EQ(error.task_id(), spawned.handle.id());
  EXPECT_TRUE(std::string_view(error.spawned_at().file_name()).ends_with("blocking_pool_test.cpp"));
  EXPECT_NE(error.message().find("boom"), std::string::npos);
  try {
    error.resume_panic();
    ADD_FAILURE() << "resume_panic returned";
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "boom");
  }
}

TEST_F(BlockingPoolTest, GrowsOneThreadPerConcurrentlyBlockedClosure) {
  constexpr std::size_t kClosures = 4;
  auto& pool = make_pool(with_keep_alive(1min));
  std::latch all_running(kClosures);
  std::vector<Spawned<bool>> spawned;
  for (std::size_t i = 0; i < kClosures; ++i) {
    spawned.push_back(submit_to(pool, [this, &all_running] {
      all_running.count_down();
      return gate_.wait();
    }));
  }

  // All of them inside their closure at once: one thread each.
  ASSERT_TRUE(eventually([&] { return all_running.try_wait(); }));
  EXPECT_EQ(pool.threads(), kClosures);
  EXPECT_EQ(pool.idle_threads(), 0u);
  EXPECT_EQ(pool.queue_depth(), 0u);

  gate_.open();
  for (auto& s : spawned) {
    auto outcome = join(s);
    ASSERT_TRUE(outcome.has_value());
    ASSERT_TRUE(outcome->has_value());
    EXPECT_TRUE(**outcome);
  }
  // The threads stay, idle, until their keep-alive ends.
  EXPECT_TRUE(eventually([&] { return pool.idle_threads() == kClosures; }));
  EXPECT_EQ(pool.threads(), kClosures);
}

TEST_F(BlockingPoolTest, ReusesAnIdleThreadForSequentialTasks) {
  auto& pool = make_pool(with_keep_alive(1min));
  for (int i = 0; i < 20; ++i) {
    auto spawned = submit_to(pool, [i] { return i; });
    auto outcome = join(spawned);
    ASSERT_TRUE(outcome.has_value());
    ASSERT_TRUE(outcome->has_value());
    EXPECT_EQ(**outcome, i);
    // Once the thread is back waiting, the next task must go to it rather than to a new thread.
    ASSERT_TRUE(eventually([&] { return pool.idle_threads() == 1; }));
    EXPECT_EQ(pool.threads(), 1u);
  }
  EXPECT_EQ(pool.spawned_total(), 20u);
}

TEST_F(BlockingPoolTest, IdleThreadsExitAfterKeepAlive) {
  constexpr std::size_t kClosures = 3;
  auto& pool = make_pool(with_keep_alive(50ms));
  std::latch all_running(kClosures);
  std::vector<Spawned<bool>> spawned;
  for (std::size_t i = 0; i < kClosures; ++i) {
    spawned.push_back(submit_to(pool, [this, &all_running] {
      all_running.count_down();
      return gate_.wait();
    }));
  }
  ASSERT_TRUE(eventually([&] { return all_running.try_wait(); }));
  EXPECT_EQ(pool.threads(), kClosures);

  gate_.open();
  for (auto& s : spawned) ASSERT_TRUE(join(s).has_value());
  EXPECT_TRUE(eventually([&] { return pool.threads() == 0; }));
  EXPECT_EQ(pool.idle_threads(), 0u);

  // An emptied pool grows again on demand.
  auto again = submit_to(pool, [] { return 7; });
  auto outcome = join(again);
  ASSERT_TRUE(outcome.has_value());
  ASSERT_TRUE(outcome->has_value());
  EXPECT_EQ(**outcome, 7);
}

TEST_F(BlockingPoolTest, QueuesBeyondMaxThreads) {
  BlockingPool::Options options;
  options.max_threads = 2;
  auto& pool = make_pool(std::move(options));
  std::vector<Spawned<bool>> spawned;
  for (int i = 0; i < 5; ++i) {
    spawned.push_back(submit_to(pool, [this] { return gate_.wait(); }));
    EXPECT_TRUE(spawned.back().accepted);
  }

  ASSERT_TRUE(eventually([&] { return pool.threads() == 2 && pool.queue_depth() == 3; }));
  EXPECT_EQ(pool.idle_threads(), 0u);
  EXPECT_EQ(pool.spawned_total(), 5u);

  gate_.open();
  for (auto& s : spawned) {
    auto outcome = join(s);
    ASSERT_TRUE(outcome.has_value());
    ASSERT_TRUE(outcome->has_value());
    EXPECT_TRUE(**outcome);
  }
  EXPECT_EQ(pool.queue_depth(), 0u);
  EXPECT_EQ(pool.threads(), 2u);
}

TEST_F(BlockingPoolTest, RejectsWhenTheQueueIsAtItsLimit) {
  BlockingPool::Options options;
  options.max_threads = 1;
  options.queue_limit = 1;
  auto& pool = make_pool(std::move(options));
  std::latch first_running(1);
  auto first = submit_to(pool, [this, &first_running] {
    first_running.count_down();
    return gate_.wait();
  });
  auto second = submit_to(pool, [this] { return gate_.wait(); });
  auto third = submit_to(pool, [this] { return gate_.wait(); });

  EXPECT_TRUE(first.accepted);
  EXPECT_TRUE(second.accepted);
  EXPECT_FALSE(third.accepted);
  ASSERT_TRUE(third.handle.is_finished());  // rejected at once
  auto rejected = third.state->take_outcome();
  ASSERT_FALSE(rejected.has_value());
  EXPECT_TRUE(rejected.error().is_rejected());
  EXPECT_EQ(pool.spawned_total(), 2u);
  EXPECT_EQ(pool.rejected_total(), 1u);
  ASSERT_TRUE(eventually([&] { return first_running.try_wait(); }));
  EXPECT_EQ(pool.queue_depth(), 1u);

  gate_.open();
  for (auto* s : {&first, &second}) {
    auto outcome = join(*s);
    ASSERT_TRUE(outcome.has_value());
    ASSERT_TRUE(outcome->has_value());
  }
  // Room again once the queue has drained.
  auto fourth = submit_to(pool, [] { return true; });
  EXPECT_TRUE(fourth.accepted);
  ASSERT_TRUE(join(fourth).has_value());
}

TEST_F(BlockingPoolTest, QueueLimitZeroRunsOnlyWhenAThreadIsFree) {
  BlockingPool::Options options;
  options.max_threads = 1;
  options.queue_limit = 0;
  options.keep_alive = 1min;
  auto& pool = make_pool(std::move(options));
  auto busy = submit_to(pool, [this] { return gate_.wait(); });
  auto refused = submit_to(pool, [] { return true; });
  EXPECT_TRUE(busy.accepted);
  EXPECT_FALSE(refused.accepted);

  gate_.open();
  ASSERT_TRUE(join(busy).has_value());
  ASSERT_TRUE(eventually([&] { return pool.idle_threads() == 1; }));
  auto later = submit_to(pool, [] { return true; });
  EXPECT_TRUE(later.accepted);
  ASSERT_TRUE(join(later).has_value());
}

TEST_F(BlockingPoolTest, AbortedQueuedTaskIsCancelledWithoutRunning) {
  BlockingPool::Options options;
  options.max_threads = 1;
  auto& pool = make_pool(std::move(options));
  auto blocker = submit_to(pool, [this] { return gate_.wait(); });
  std::atomic<bool> ran{false};
  auto queued = submit_to(pool, [&ran] { ran.store(true); });
  queued.handle.abort();

  gate_.open();
  auto outcome = join(queued);
  ASSERT_TRUE(outcome.has_value());
  ASSERT_FALSE(outcome->has_value());
  EXPECT_TRUE(outcome->error().is_cancelled());
  EXPECT_FALSE(ran.load());
  ASSERT_TRUE(join(blocker).has_value());
}

TEST_F(BlockingPoolTest, ShutdownCancelsQueuedTasksAndWaitsForRunningOnes) {
  BlockingPool::Options options;
  options.max_threads = 1;
  auto& pool = make_pool(std::move(options));
  std::latch running(1);
  auto blocker = submit_to(pool, [this, &running] {
    running.count_down();
    return gate_.wait();
  });
  std::atomic<int> ran{0};
  auto queued_a = submit_to(pool, [&ran] { ran.fetch_add(1); });
  auto queued_b = submit_to(pool, [&ran] { ran.fetch_add(1); });
  ASSERT_TRUE(eventually([&] { return running.try_wait(); }));

  std::atomic<bool> returned{false};
  std::thread shutter([&] {
    pool.shutdown(std::nullopt);
    returned.store(true);
  });
  for (auto* queued : {&queued_a, &queued_b}) {
    auto outcome = join(*queued);
    ASSERT_TRUE(outcome.has_value());
    ASSERT_FALSE(outcome->has_value());
    EXPECT_TRUE(outcome->error().is_cancelled());
  }
  EXPECT_EQ(ran.load(), 0);
  // The running closure is still held at the gate, so shutdown cannot have returned.
  EXPECT_FALSE(returned.load());
  EXPECT_FALSE(blocker.handle.is_finished());
  EXPECT_FALSE(submit_to(pool, [] { return 1; }).accepted);

  gate_.open();
  shutter.join();
  EXPECT_TRUE(returned.load());
  ASSERT_TRUE(blocker.handle.is_finished());
  auto outcome = blocker.state->take_outcome();
  ASSERT_TRUE(outcome.has_value());
  EXPECT_TRUE(*outcome);
  EXPECT_EQ(pool.threads(), 0u);
  EXPECT_EQ(pool.queue_depth(), 0u);
  EXPECT_EQ(pool.rejected_total(), 1u);
}

TEST_F(BlockingPoolTest, ShutdownDeadlineLeavesAStuckThreadBehind) {
  auto& pool = make_pool();
  std::latch running(1);
  auto stuck = submit_to(pool, [this, &running] {
    running.count_down();
    return gate_.wait();
  });
  ASSERT_TRUE(eventually([&] { return running.try_wait(); }));

  pool.shutdown(std::chrono::steady_clock::now() + 50ms);  // returns although the closure is stuck
  EXPECT_FALSE(stuck.handle.is_finished());
  EXPECT_EQ(pool.threads(), 1u);
  EXPECT_FALSE(submit_to(pool, [] { return true; }).accepted);

  // The detached thread finishes on its own once released.
  gate_.open();
  auto outcome = join(stuck);
  ASSERT_TRUE(outcome.has_value());
  ASSERT_TRUE(outcome->has_value());
  EXPECT_TRUE(**outcome);
  // Its cell calls pool.task_completed() just after reporting finished: keep the pool alive until
  // the thread has left the pool.
  EXPECT_TRUE(eventually([&] { return pool.threads() == 0; }));
}

TEST_F(BlockingPoolTest, ShutdownFromAPoolThreadDoesNotWaitForItself) {
  auto& pool = make_pool();
  auto spawned = submit_to(pool, [&pool] {
    pool.shutdown(std::nullopt);
    return 5;
  });
  auto outcome = join(spawned);
  ASSERT_TRUE(outcome.has_value());
  ASSERT_TRUE(outcome->has_value());
  EXPECT_EQ(**outcome, 5);
  EXPECT_TRUE(eventually([&] { return pool.threads() == 0; }));
  EXPECT_FALSE(submit_to(pool, [] { return true; }).accepted);
}

thread_local bool started_by_pool = false;

TEST_F(BlockingPoolTest, NamesThreadsAndRunsTheStartAndStopHooks) {
  std::atomic<int> starts{0};
  std::atomic<int> stops{0};
  BlockingPool::Options options;
  options.thread_name = "bp-test-thread-name-too-long";
  options.on_thread_start = [&starts] {
    started_by_pool = true;
    starts.fetch_add(1);
  };
  options.on_thread_stop = [&stops] { stops.fetch_add(1); };
  auto& pool = make_pool(std::move(options));

  auto spawned = submit_to(pool, [] {
    char name[16] = {};
    pthread_getname_np(pthread_self(), name, sizeof name);
    return std::pair(std::string(name), started_by_pool);
  });
  auto outcome = join(spawned);
  ASSERT_TRUE(outcome.has_value());
  ASSERT_TRUE(outcome->has_value());
  EXPECT_EQ((*outcome)->first, "bp-test-thread-");  // the first 15 characters
  EXPECT_TRUE((*outcome)->second);

  pool.shutdown(std::nullopt);
  EXPECT_EQ(starts.load(), 1);
  EXPECT_EQ(stops.load(), 1);
}

// The nice value is per thread on Linux: the pool's threads add options.nice to what they inherit,
// and the thread that started them keeps its own.
TEST_F(BlockingPoolTest, ThreadsRunNicerByTheConfiguredIncrement) {
  const auto nice_of_this_thread = [] {
    errno = 0;
    const int nice = ::getpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()));
    return errno == 0 ? nice : -100;
  };
  const int own = nice_of_this_thread();
  ASSERT_LE(own, 12) << "the test needs room for +7 below the ceiling of 19";
  BlockingPool::Options options;
  options.nice = 7;
  auto& pool = make_pool(std::move(options));

  auto spawned = submit_to(pool, nice_of_this_thread);
  auto outcome = join(spawned);
  ASSERT_TRUE(outcome.has_value());
  ASSERT_TRUE(outcome->has_value());
  EXPECT_EQ(**outcome, own + 7);
  EXPECT_EQ(nice_of_this_thread(), own);
}

// Threads whose keep-alive is zero give up the moment they find no work, racing every submit:
// a task queued just as its thread decides to exit must still run.
TEST_F(BlockingPoolTest, NoTaskIsStrandedWhileThreadsComeAndGo) {
  constexpr int kSubmitters = 4;
  constexpr int kTasksEach = 300;
  constexpr std::size_t kMaxThreads = 3;
  BlockingPool::Options options;
  options.max_threads = kMaxThreads;
  options.keep_alive = 0ms;
  auto& pool = make_pool(std::move(options));
  std::atomic<int> ran{0};
  std::atomic<std::size_t> most_threads{0};

  std::vector<std::vector<Spawned<int>>> spawned(kSubmitters);
  std::vector<std::thread> submitters;
  for (int s = 0; s < kSubmitters; ++s) {
    submitters.emplace_back([&, s] {
      for (int i = 0; i < kTasksEach; ++i) {
        spawned[s].push_back(submit_to(pool, [&pool, &ran, &most_threads, i] {
          std::size_t seen = pool.threads();
          std::size_t most = most_threads.load();
          while (seen > most && !most_threads.compare_exchange_weak(most, seen)) {
          }
          ran.fetch_add(1);
          return i;
        }));
        if (i % 8 == 0) std::this_thread::yield();  // let threads go idle and expire
      }
    });
  }
  for (auto& t : submitters) t.join();

  for (auto& list : spawned) {
    for (int i = 0; i < kTasksEach; ++i) {
      auto outcome = join(list[static_cast<std::size_t>(i)]);
      ASSERT_TRUE(outcome.has_value()) << "task " << i << " never ran";
      ASSERT_TRUE(outcome->has_value());
      EXPECT_EQ(**outcome, i);
    }
  }
  EXPECT_EQ(ran.load(), kSubmitters * kTasksEach);
  EXPECT_LE(most_threads.load(), kMaxThreads);
  EXPECT_EQ(pool.spawned_total(), static_cast<std::uint64_t>(kSubmitters * kTasksEach));
  EXPECT_TRUE(eventually([&] { return pool.threads() == 0; }));
}

}  // namespace
}  // namespace brigade::runtime::detail
