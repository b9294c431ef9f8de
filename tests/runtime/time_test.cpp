// Time: sleep and sleep_until never complete early, timers fire in deadline order, an aborted
// sleep never fires, timers fire while every worker is busy, Interval's first tick and its
// missed-tick behaviours, and yield_now.
//
// No assertion puts an upper bound on wall-clock time: only "not before" and orderings that hold
// with generous separations.
#include "brigade/runtime/time.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "brigade/runtime/runtime.hpp"
#include "runtime_core.hpp"  // white box: the driver's count of armed timers

namespace rt = brigade::runtime;
using namespace std::chrono_literals;
using rt::Clock;

namespace {

// Aborts the process with a message if the scope is not left within `limit`, so that a timer that
// never fires fails the run instead of hanging it.
class Watchdog {
 public:
  Watchdog(std::chrono::seconds limit, std::string what)
      : what_(std::move(what)), thread_([this, limit] {
          std::unique_lock lock(mutex_);
          if (!changed_.wait_for(lock, limit, [this] { return done_; })) {
            std::fprintf(stderr, "watchdog: '%s' did not finish within %lld s\n", what_.c_str(),
                         static_cast<long long>(limit.count()));
            std::fflush(stderr);
            std::abort();
          }
        }) {}
  Watchdog(const Watchdog&) = delete;
  Watchdog& operator=(const Watchdog&) = delete;
  ~Watchdog() {
    {
      std::lock_guard guard(mutex_);
      done_ = true;
    }
    changed_.notify_all();
    thread_.join();
  }

 private:
  std::string what_;
  std::mutex mutex_;
  std::condition_variable changed_;
  bool done_ = false;
  std::thread thread_;
};

// Instants and durations as nanosecond counts, so that failures print numbers.
std::int64_t ns(Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}
std::int64_t ns(Clock::duration d) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(d).count();
}

// Armed timers of the runtime running the calling task.
std::size_t armed_timers() {
  return brigade::runtime::detail::current_runtime()->driver().timers();
}

// Both flavors; the multi-thread one with two workers.
class TimeTest : public ::testing::TestWithParam<bool> {
 protected:
  static rt::Runtime make() {
    return GetParam() ? rt::Builder::multi_thread().worker_threads(2).build()
                      : rt::Builder::current_thread().build();
  }
};

// Runtimes with one worker: the current-thread flavor and a one-worker multi-thread runtime.
class OneWorkerTimeTest : public ::testing::TestWithParam<bool> {
 protected:
  static rt::Runtime make() {
    return GetParam() ? rt::Builder::multi_thread().worker_threads(1).build()
                      : rt::Builder::current_thread().build();
  }
};

std::string flavor_name(const ::testing::TestParamInfo<bool>& info) {
  return info.param ? "MultiThread" : "CurrentThread";
}

// ---------------------------------------------------------------------------------------------
// Never early

struct SleepCheck {
  std::atomic<int> finished{0};
  std::atomic<int> woke_before_deadline{0};
  std::atomic<int> deadline_too_early{0};
  std::atomic<int> ran_on_other_thread{0};
};

rt::Task<void> sleep_and_check(SleepCheck* check, std::chrono::microseconds duration,
                               bool absolute) {
  const auto start = Clock::now();
  auto timer = absolute ? rt::sleep_until(start + duration) : rt::sleep(duration);
  const auto deadline = timer.deadline();
  if (deadline < start + duration) check->deadline_too_early.fetch_add(1);
  co_await timer;
  if (Clock::now() < deadline) check->woke_before_deadline.fetch_add(1);
  check->finished.fetch_add(1);
}

rt::Task<void> many_random_sleeps(SleepCheck* check, int count) {
  std::mt19937 random(20240611);
  std::uniform_int_distribution<int> micros(0, 50'000);
  std::vector<rt::JoinHandle<void>> handles;
  for (int i = 0; i < count; ++i) {
    handles.push_back(
        rt::spawn(sleep_and_check(check, std::chrono::microseconds(micros(random)), i % 2 == 0)));
  }
  for (auto& handle : handles) static_cast<void>(co_await handle);
}

TEST_P(TimeTest, ManyConcurrentSleepsNeverCompleteBeforeTheirDeadline) {
  constexpr int kSleeps = 500;
  Watchdog watchdog(60s, "ManyConcurrentSleepsNeverCompleteBeforeTheirDeadline");
  auto runtime = make();
  SleepCheck check;
  runtime.block_on(many_random_sleeps(&check, kSleeps));
  EXPECT_EQ(check.finished.load(), kSleeps);
  EXPECT_EQ(check.woke_before_deadline.load(), 0);
  EXPECT_EQ(check.deadline_too_early.load(), 0);
}

// Timers placed in the wheel's higher level (64 ms slots and up) cascade down without firing early.
rt::Task<int> sleeps_across_wheel_levels() {
  int early = 0;
  for (auto duration : {1ms, 63ms, 65ms, 130ms, 260ms}) {
    const auto start = Clock::now();
    co_await rt::sleep(duration);
    if (Clock::now() - start < duration) ++early;
  }
  co_return early;
}

TEST_P(TimeTest, SleepsInHigherWheelLevelsNeverCompleteEarly) {
  auto runtime = make();
  EXPECT_EQ(runtime.block_on(sleeps_across_wheel_levels()), 0);
}

// ---------------------------------------------------------------------------------------------
// Ordering

struct WakeLog {
  std::mutex mutex;
  std::vector<int> order;
};

rt::Task<void> sleep_then_log(WakeLog* log, int ms) {
  co_await rt::sleep(std::chrono::milliseconds(ms));
  std::lock_guard guard(log->mutex);
  log->order.push_back(ms);
}

rt::Task<void> sleep_in_scrambled_order(WakeLog* log, std::vector<int> durations) {
  std::vector<rt::JoinHandle<void>> handles;
  for (int ms : durations) handles.push_back(rt::spawn(sleep_then_log(log, ms)));
  for (auto& handle : handles) static_cast<void>(co_await handle);
}

TEST_P(TimeTest, TimersFireInDeadlineOrder) {
  auto runtime = make();
  WakeLog log;
  runtime.block_on(sleep_in_scrambled_order(&log, {100, 20, 60}));
  EXPECT_EQ(log.order, (std::vector<int>{20, 60, 100}));
}

TEST_P(TimeTest, TimersInDifferentWheelLevelsFireInDeadlineOrder) {
  auto runtime = make();
  WakeLog log;
  runtime.block_on(sleep_in_scrambled_order(&log, {300, 5, 150, 60}));
  EXPECT_EQ(log.order, (std::vector<int>{5, 60, 150, 300}));
}

// ---------------------------------------------------------------------------------------------
// Deadlines already past

struct PastReport {
  bool ready_before_await = false;
  bool other_task_ran_meanwhile = true;
  std::size_t timers_armed = 1;
};

rt::Task<void> set_flag(std::atomic<bool>* flag) {
  flag->store(true);
  co_return;
}

// On one worker, a task spawned here runs only once this task suspends; so if it has not run
// after the awaits, they completed without suspending.
rt::Task<PastReport> await_deadlines_in_the_past() {
  PastReport report;
  std::atomic<bool> other_ran{false};
  auto other = rt::spawn(set_flag(&other_ran));
  auto past = rt::sleep_until(Clock::now() - 1s);
  report.ready_before_await = past.await_ready();
  co_await past;
  co_await rt::sleep_until(Clock::now());
  co_await rt::sleep(0ms);
  co_await rt::sleep(-5ms);
  report.other_task_ran_meanwhile = other_ran.load();
  report.timers_armed = armed_timers();
  static_cast<void>(co_await other);
  co_return report;
}

TEST_P(OneWorkerTimeTest, SleepUntilAPastInstantCompletesAtOnce) {
  auto runtime = make();
  const auto report = runtime.block_on(await_deadlines_in_the_past());
  EXPECT_TRUE(report.ready_before_await);
  EXPECT_FALSE(report.other_task_ran_meanwhile) << "a past deadline suspended the task";
  EXPECT_EQ(report.timers_armed, 0u);
}

// ---------------------------------------------------------------------------------------------
// Abort

struct AbortReport {
  std::size_t timers_before = 99;
  std::size_t timers_while_sleeping = 99;
  std::size_t timers_after_abort = 99;
  std::size_t timers_at_end = 99;
  bool cancelled = false;
  bool alive_back_to_root = false;
};

rt::Task<void> sleep_then_mark(std::atomic<bool>* started, std::atomic<bool>* fired,
                               std::shared_ptr<int> held) {
  started->store(true);
  co_await rt::sleep(30ms);
  fired->store(true);
  ++*held;
}

rt::Task<AbortReport> abort_a_sleeper(std::atomic<bool>* fired, std::shared_ptr<int> held) {
  AbortReport report;
  report.timers_before = armed_timers();
  std::atomic<bool> started{false};
  auto sleeper = rt::spawn(sleep_then_mark(&started, fired, std::move(held)));
  // Until its timer is armed (a few turns; the bound is only a guard).
  for (int i = 0; i < 100'000 && armed_timers() == report.timers_before; ++i) {
    co_await rt::yield_now();
  }
  report.timers_while_sleeping = armed_timers();
  sleeper.abort();
  auto result = co_await sleeper;
  report.cancelled = !result && result.error().is_cancelled();
  report.timers_after_abort = armed_timers();
  co_await rt::sleep(80ms);  // well past the aborted sleep's deadline
  report.timers_at_end = armed_timers();
  // The aborted task is gone from the runtime's books (only this root task is alive).
  for (int i = 0; i < 1000 && !report.alive_back_to_root; ++i) {
    report.alive_back_to_root = rt::Handle::current().metrics().tasks_alive == 1;
    if (!report.alive_back_to_root) co_await rt::sleep(1ms);
  }
  co_return report;
}

TEST_P(TimeTest, AnAbortedSleepNeverFires) {
  auto runtime = make();
  std::atomic<bool> fired{false};
  auto held = std::make_shared<int>(0);
  const auto report = runtime.block_on(abort_a_sleeper(&fired, held));
  EXPECT_EQ(report.timers_before, 0u);
  EXPECT_EQ(report.timers_while_sleeping, 1u);
  EXPECT_TRUE(report.cancelled);
  EXPECT_EQ(report.timers_after_abort, 0u) << "the aborted sleep's timer is still armed";
  EXPECT_EQ(report.timers_at_end, 0u);
  EXPECT_TRUE(report.alive_back_to_root);
  EXPECT_FALSE(fired.load());
  EXPECT_EQ(*held, 0);
  EXPECT_EQ(held.use_count(), 1) << "the aborted task's frame was not freed";
}

// ---------------------------------------------------------------------------------------------
// Timers while the workers are busy

struct BusyReport {
  std::atomic<bool> woke{false};
  std::atomic<int> woke_early{0};
  std::atomic<std::uint64_t> yields_while_waiting{0};
  std::atomic<int> busy_tasks_that_saw_the_wake{0};  // rather than giving up
};

rt::Task<void> sleep_then_signal(BusyReport* report, std::chrono::milliseconds duration) {
  const auto deadline = Clock::now() + duration;
  co_await rt::sleep(duration);
  if (Clock::now() < deadline) report->woke_early.fetch_add(1);
  report->woke.store(true, std::memory_order_release);
}

// Never parks: its worker's queue always holds it, so only the worker loop's periodic look at the
// driver can fire the sleeper's timer.
rt::Task<void> yield_until_woken(BusyReport* report) {
  const auto give_up = Clock::now() + 20s;  // a guard only: the test fails if it is reached
  while (!report->woke.load(std::memory_order_acquire) && Clock::now() < give_up) {
    co_await rt::yield_now();
    report->yields_while_waiting.fetch_add(1, std::memory_order_relaxed);
  }
  if (report->woke.load(std::memory_order_acquire))
    report->busy_tasks_that_saw_the_wake.fetch_add(1);
}

rt::Task<void> keep_workers_busy_while_sleeping(BusyReport* report, int busy_tasks) {
  auto sleeper = rt::spawn(sleep_then_signal(report, 10ms));
  std::vector<rt::JoinHandle<void>> busy;
  for (int i = 0; i < busy_tasks; ++i) busy.push_back(rt::spawn(yield_until_woken(report)));
  static_cast<void>(co_await sleeper);
  for (auto& handle : busy) static_cast<void>(co_await handle);
}

TEST_P(OneWorkerTimeTest, TimersFireWhileTheOnlyWorkerIsBusy) {
  auto runtime = make();
  BusyReport report;
  runtime.block_on(keep_workers_busy_while_sleeping(&report, 1));
  EXPECT_EQ(report.busy_tasks_that_saw_the_wake.load(), 1)
      << "the timer did not fire while the worker was busy";
  EXPECT_EQ(report.woke_early.load(), 0);
  EXPECT_GT(report.yields_while_waiting.load(), 0u);
}

// Busy workers poll the driver every so many tasks, and no more often than a minimum gap they
// measure with the latency histograms' clock or, with those off, a read of their own.
class TimeBusyTest : public ::testing::TestWithParam<bool> {};

TEST_P(TimeBusyTest, TimersFireWhileEveryWorkerIsBusy) {
  auto runtime =
      rt::Builder::multi_thread().worker_threads(2).latency_histograms(GetParam()).build();
  BusyReport report;
  runtime.block_on(keep_workers_busy_while_sleeping(&report, 4));
  EXPECT_EQ(report.busy_tasks_that_saw_the_wake.load(), 4)
      << "the timer did not fire while the workers were busy";
  EXPECT_EQ(report.woke_early.load(), 0);
  EXPECT_GT(report.yields_while_waiting.load(), 0u);
}

INSTANTIATE_TEST_SUITE_P(LatencyHistograms, TimeBusyTest, ::testing::Bool(),
                         [](const auto& param_info) { return param_info.param ? "On" : "Off"; });

// ---------------------------------------------------------------------------------------------
// Interval

struct FirstTick {
  Clock::time_point before;
  Clock::time_point after;
  Clock::time_point scheduled;
  bool ready = false;
};

rt::Task<FirstTick> first_tick() {
  FirstTick out;
  out.before = Clock::now();
  auto ticks = rt::interval(1h);  // a second tick would never come: the first must not wait
  out.after = Clock::now();
  auto tick = ticks.tick();
  out.ready = tick.await_ready();
  out.scheduled = co_await tick;
  co_return out;
}

TEST_P(TimeTest, IntervalFirstTickCompletesAtOnce) {
  auto runtime = make();
  const auto tick = runtime.block_on(first_tick());
  EXPECT_TRUE(tick.ready);
  EXPECT_GE(ns(tick.scheduled), ns(tick.before));
  EXPECT_LE(ns(tick.scheduled), ns(tick.after));
}

struct TickLog {
  Clock::time_point start;
  std::vector<Clock::time_point> scheduled;
  std::vector<Clock::time_point> resumed;
};

rt::Task<TickLog> on_time_ticks(Clock::duration period, int ticks) {
  TickLog log;
  rt::Interval every(period);
  for (int i = 0; i < ticks; ++i) {
    log.scheduled.push_back(co_await every.tick());
    log.resumed.push_back(Clock::now());
  }
  log.start = log.scheduled.front();
  co_return log;
}

TEST_P(TimeTest, IntervalTicksArePeriodApartAndNeverEarly) {
  constexpr auto kPeriod = std::chrono::milliseconds(15);
  auto runtime = make();
  const auto log = runtime.block_on(on_time_ticks(kPeriod, 6));
  ASSERT_EQ(log.scheduled.size(), 6u);
  for (std::size_t k = 0; k < log.scheduled.size(); ++k) {
    EXPECT_EQ(ns(log.scheduled[k] - log.start), ns(static_cast<int>(k) * kPeriod)) << "tick " << k;
    EXPECT_GE(ns(log.resumed[k]), ns(log.scheduled[k])) << "tick " << k << " completed early";
  }
}

// A consumer that takes its first tick, then is late by 3.5 periods, then takes `more` ticks.
struct LateLog {
  Clock::time_point t0;
  Clock::time_point after_t0;                // just after the first tick completed
  Clock::time_point before_first_late;       // just before awaiting the first tick after the delay
  Clock::time_point after_first_late;        // just after it
  std::vector<Clock::time_point> scheduled;  // the ticks after t0
  std::vector<Clock::time_point> resumed;
  std::vector<bool> ready;  // whether the tick was due when it was requested
};

rt::Task<LateLog> late_consumer(Clock::duration period, rt::MissedTickBehavior behavior, int more) {
  LateLog log;
  rt::Interval every(period, behavior);
  log.t0 = co_await every.tick();
  log.after_t0 = Clock::now();
  co_await rt::sleep(period * 7 / 2);  // at least 3.5 periods late
  for (int i = 0; i < more; ++i) {
    const auto before = Clock::now();
    auto tick = every.tick();
    log.ready.push_back(tick.await_ready());
    log.scheduled.push_back(co_await tick);
    log.resumed.push_back(Clock::now());
    if (i == 0) {
      log.before_first_late = before;
      log.after_first_late = log.resumed.back();
    }
  }
  co_return log;
}

constexpr auto kLatePeriod = std::chrono::milliseconds(20);

TEST_P(TimeTest, IntervalBurstFiresMissedTicksBackToBack) {
  auto runtime = make();
  const auto log = runtime.block_on(late_consumer(kLatePeriod, rt::MissedTickBehavior::burst, 5));
  ASSERT_EQ(log.scheduled.size(), 5u);
  // Every tick keeps its place on the original grid, none is dropped.
  for (std::size_t k = 0; k < 5; ++k) {
    EXPECT_EQ(ns(log.scheduled[k] - log.t0), ns(static_cast<int>(k + 1) * kLatePeriod))
        << "tick " << k + 1;
    EXPECT_GE(ns(log.resumed[k]), ns(log.scheduled[k])) << "tick " << k + 1 << " completed early";
  }
  // The three missed ones were already due: handed out back to back, without waiting.
  EXPECT_TRUE(log.ready[0]);
  EXPECT_TRUE(log.ready[1]);
  EXPECT_TRUE(log.ready[2]);
}

TEST_P(TimeTest, IntervalDelayRestartsOnePeriodAfterTheLateTick) {
  auto runtime = make();
  const auto log = runtime.block_on(late_consumer(kLatePeriod, rt::MissedTickBehavior::delay, 3));
  ASSERT_EQ(log.scheduled.size(), 3u);
  // The late tick is the one that was due, handed out at once, one period after the first.
  EXPECT_GE(ns(log.scheduled[0]), ns(log.t0 + kLatePeriod));
  EXPECT_LE(ns(log.scheduled[0]), ns(log.after_t0 + kLatePeriod));
  EXPECT_TRUE(log.ready[0]);
  // The next one is a period after the moment the late tick was taken, off the original grid.
  EXPECT_GE(ns(log.scheduled[1]), ns(log.before_first_late + kLatePeriod));
  EXPECT_LE(ns(log.scheduled[1]), ns(log.after_first_late + kLatePeriod));
  EXPECT_GE(ns(log.scheduled[1]), ns(log.t0 + 4 * kLatePeriod + kLatePeriod / 2));
  EXPECT_GE(ns(log.scheduled[2]), ns(log.scheduled[1] + kLatePeriod));
  for (std::size_t k = 0; k < 3; ++k) EXPECT_GE(ns(log.resumed[k]), ns(log.scheduled[k]));
}

// Delay only applies to a tick that is late (by more than 5 ms, as in Tokio): an on-time consumer
// keeps the grid, t0 + k * period, instead of drifting by each wake-up's latency.
rt::Task<TickLog> on_time_ticks_with_delay(Clock::duration period, int ticks) {
  TickLog log;
  rt::Interval every(period, rt::MissedTickBehavior::delay);
  for (int i = 0; i < ticks; ++i) {
    log.scheduled.push_back(co_await every.tick());
    log.resumed.push_back(Clock::now());
  }
  log.start = log.scheduled.front();
  co_return log;
}

TEST_P(TimeTest, IntervalDelayKeepsTheGridWhileTheConsumerIsOnTime) {
  constexpr auto kPeriod = std::chrono::milliseconds(15);
  constexpr auto kOnTime = std::chrono::milliseconds(5);  // Tokio's threshold for "late"
  auto runtime = make();
  const auto log = runtime.block_on(on_time_ticks_with_delay(kPeriod, 6));
  ASSERT_EQ(log.scheduled.size(), 6u);
  for (std::size_t k = 1; k < log.scheduled.size(); ++k) {
    EXPECT_GE(ns(log.resumed[k]), ns(log.scheduled[k])) << "tick " << k << " completed early";
    // On a machine busy enough to wake us more than 5 ms late, that tick is legitimately late and
    // moves the schedule: only a tick whose predecessor was taken on time must keep the grid.
    if (log.resumed[k - 1] - log.scheduled[k - 1] > kOnTime) continue;
    EXPECT_EQ(ns(log.scheduled[k] - log.scheduled[k - 1]), ns(kPeriod)) << "tick " << k;
  }
}

TEST_P(TimeTest, IntervalSkipJumpsToTheNextTickOnTheGrid) {
  auto runtime = make();
  const auto log = runtime.block_on(late_consumer(kLatePeriod, rt::MissedTickBehavior::skip, 3));
  ASSERT_EQ(log.scheduled.size(), 3u);
  EXPECT_EQ(ns(log.scheduled[0] - log.t0), ns(kLatePeriod));
  EXPECT_TRUE(log.ready[0]);
  // The next tick is the first grid point after the late tick was taken: the missed ones are
  // skipped, the grid is kept.
  const auto offset = log.scheduled[1] - log.t0;
  EXPECT_EQ(ns(offset % kLatePeriod), 0);
  EXPECT_GE(ns(offset), ns(4 * kLatePeriod));
  EXPECT_GT(ns(log.scheduled[1]), ns(log.before_first_late));
  EXPECT_LE(ns(log.scheduled[1] - kLatePeriod), ns(log.after_first_late));
  EXPECT_EQ(ns((log.scheduled[2] - log.t0) % kLatePeriod), 0);
  EXPECT_GT(ns(log.scheduled[2]), ns(log.scheduled[1]));
  for (std::size_t k = 0; k < 3; ++k) EXPECT_GE(ns(log.resumed[k]), ns(log.scheduled[k]));
}

// ---------------------------------------------------------------------------------------------
// yield_now

rt::Task<void> count_run(std::atomic<int>* counter) {
  counter->fetch_add(1);
  co_return;
}

struct YieldReport {
  int ran_before_yield = -1;
  int ran_after_one_yield = -1;
};

rt::Task<YieldReport> yield_once_with_others_queued(int others) {
  YieldReport report;
  std::atomic<int> ran{0};
  std::vector<rt::JoinHandle<void>> handles;
  for (int i = 0; i < others; ++i) handles.push_back(rt::spawn(count_run(&ran)));
  report.ran_before_yield = ran.load();
  co_await rt::yield_now();
  report.ran_after_one_yield = ran.load();
  for (auto& handle : handles) static_cast<void>(co_await handle);
  co_return report;
}

TEST_P(OneWorkerTimeTest, YieldNowLetsTheOtherQueuedTasksRunFirst) {
  auto runtime = make();
  const auto one = runtime.block_on(yield_once_with_others_queued(1));
  EXPECT_EQ(one.ran_before_yield, 0);
  EXPECT_EQ(one.ran_after_one_yield, 1);
  const auto many = runtime.block_on(yield_once_with_others_queued(10));
  EXPECT_EQ(many.ran_before_yield, 0);
  EXPECT_EQ(many.ran_after_one_yield, 10);
}

rt::Task<int> yield_until_set(std::atomic<bool>* flag) {
  int yields = 0;
  const auto give_up = Clock::now() + 20s;  // a guard only
  while (!flag->load() && Clock::now() < give_up) {
    co_await rt::yield_now();
    ++yields;
  }
  co_return flag->load() ? yields : -1;
}

rt::Task<int> yield_while_another_sets_a_flag() {
  std::atomic<bool> flag{false};
  auto waiter = rt::spawn(yield_until_set(&flag));
  auto setter = rt::spawn(set_flag(&flag));
  static_cast<void>(co_await setter);
  auto yields = co_await waiter;
  co_return yields ? *yields : -2;
}

TEST_P(TimeTest, YieldNowLetsAnotherTaskRun) {
  auto runtime = make();
  EXPECT_GE(runtime.block_on(yield_while_another_sets_a_flag()), 0);
}

INSTANTIATE_TEST_SUITE_P(Flavors, TimeTest, ::testing::Values(true, false), flavor_name);
INSTANTIATE_TEST_SUITE_P(OneWorker, OneWorkerTimeTest, ::testing::Values(true, false), flavor_name);

}  // namespace
