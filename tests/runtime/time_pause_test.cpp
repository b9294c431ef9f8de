// The clock tests can pause (time::pause, advance, resume; Tokio's test-util): under a paused
// clock an hour-long sleep completes at once by auto-advance, timers and timeouts fire in
// deadline order at exactly their instants, advance(d) fires the timers due within d and no
// later one, intervals tick on the paused clock, I/O still wakes tasks, and an I/O event that is
// ready runs before the clock jumps, and a spawn_blocking job holds auto-advance back until it
// ends. Misuse terminates with a message.
//
// Every instant is compared exactly: the paused clock moves only when the runtime moves it.
#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <cstddef>
#include <thread>
#include <utility>
#include <vector>

#include "brigade/runtime/join_handle.hpp"
#include "brigade/runtime/net/socket_addr.hpp"
#include "brigade/runtime/net/tcp.hpp"
#include "brigade/runtime/runtime.hpp"
#include "brigade/runtime/select.hpp"
#include "brigade/runtime/spawn.hpp"
#include "brigade/runtime/sync/oneshot.hpp"
#include "brigade/runtime/time.hpp"
#include "brigade/runtime/timeout.hpp"
#include "result_helpers.hpp"
#include "runtime_core.hpp"  // white box: the driver's count of armed timers

namespace rt = brigade::runtime;
using namespace std::chrono_literals;
using brigade::testing::joined;
using brigade::testing::must;
using rt::Clock;

namespace {

std::size_t armed_timers() { return rt::detail::current_runtime()->driver().timers(); }

// Lets the spawned tasks run until `count` timers are armed: each of them is then waiting.
rt::Task<void> until_armed(std::size_t count) {
  while (armed_timers() < count) co_await rt::yield_now();
}

struct Woken {
  int id;
  Clock::duration at;  // since the test's start
};

rt::Task<void> sleep_then_log(std::vector<Woken>* log, Clock::time_point start, int ms) {
  co_await rt::sleep(std::chrono::milliseconds(ms));
  log->push_back({ms, Clock::now() - start});
}

rt::Task<Clock::duration> hour_long_sleep() {
  rt::time::pause();
  const Clock::time_point start = Clock::now();
  co_await rt::sleep(1h);
  co_return Clock::now() - start;
}

TEST(TimePause, AnHourLongSleepCompletesAtOnceByAutoAdvance) {
  auto runtime = rt::Builder::current_thread().build();
  // The test would time out rather than fail if the driver really waited for the hour.
  EXPECT_EQ(runtime.block_on(hour_long_sleep()), 1h);
}

rt::Task<std::vector<Woken>> sleeps_in_scrambled_order() {
  rt::time::pause();
  const Clock::time_point start = Clock::now();
  std::vector<Woken> log;
  std::vector<rt::JoinHandle<void>> handles;
  for (int ms : {300, 5, 3'600'000, 150, 60})
    handles.push_back(rt::spawn(sleep_then_log(&log, start, ms)));
  for (auto& handle : handles) joined(co_await handle, "sleeper");
  co_return log;
}

TEST(TimePause, TimersFireInDeadlineOrderAtTheirExactInstants) {
  auto runtime = rt::Builder::current_thread().build();
  const auto log = runtime.block_on(sleeps_in_scrambled_order());
  ASSERT_EQ(log.size(), 5u);
  const int expected[] = {5, 60, 150, 300, 3'600'000};
  for (std::size_t i = 0; i < log.size(); ++i) {
    EXPECT_EQ(log[i].id, expected[i]) << "wake-up #" << i;
    EXPECT_EQ(log[i].at, std::chrono::milliseconds(log[i].id)) << "timer " << log[i].id;
  }
}

rt::Task<void> time_out_then_log(std::vector<Woken>* log, Clock::time_point start, int ms,
                                 rt::oneshot::Receiver<int> never) {
  auto result = co_await rt::timeout(std::chrono::milliseconds(ms), std::move(never));
  if (!result) log->push_back({ms, Clock::now() - start});
}

rt::Task<std::vector<Woken>> timeouts_in_scrambled_order() {
  rt::time::pause();
  const Clock::time_point start = Clock::now();
  std::vector<Woken> log;
  std::vector<rt::oneshot::Sender<int>> senders;  // kept, so that no receive completes
  std::vector<rt::JoinHandle<void>> handles;
  for (int ms : {40, 10, 30, 20}) {
    auto [tx, rx] = rt::oneshot::channel<int>();
    senders.push_back(std::move(tx));
    handles.push_back(rt::spawn(time_out_then_log(&log, start, ms, std::move(rx))));
  }
  for (auto& handle : handles) joined(co_await handle, "timeout");
  co_return log;
}

TEST(TimePause, TimeoutsElapseInDeadlineOrder) {
  auto runtime = rt::Builder::current_thread().build();
  const auto log = runtime.block_on(timeouts_in_scrambled_order());
  ASSERT_EQ(log.size(), 4u) << "a receive that can never complete did not time out";
  for (std::size_t i = 0; i < log.size(); ++i) {
    const int ms = 10 * static_cast<int>(i + 1);
    EXPECT_EQ(log[i].id, ms);
    EXPECT_EQ(log[i].at, std::chrono::milliseconds(ms));
  }
}

struct AdvanceReport {
  std::vector<int> after_25ms;
  std::vector<int> after_30ms;  // a timer due exactly at the new instant fires
  std::vector<int> after_39ms;
  std::vector<int> after_40ms;
  std::size_t timers_after_39ms = 0;
  Clock::duration clock_moved{};
};

std::vector<int> ids(const std::vector<Woken>& log) {
  std::vector<int> out;
  for (const auto& woken : log) out.push_back(woken.id);
  return out;
}

rt::Task<AdvanceReport> advance_in_steps() {
  rt::time::pause();
  const Clock::time_point start = Clock::now();
  std::vector<Woken> log;
  std::vector<rt::JoinHandle<void>> handles;
  for (int ms : {40, 10, 30, 20}) handles.push_back(rt::spawn(sleep_then_log(&log, start, ms)));
  co_await until_armed(4);
  AdvanceReport report;
  co_await rt::time::advance(25ms);
  report.after_25ms = ids(log);
  co_await rt::time::advance(5ms);
  report.after_30ms = ids(log);
  co_await rt::time::advance(9ms);
  report.after_39ms = ids(log);
  report.timers_after_39ms = armed_timers();
  co_await rt::time::advance(1ms);
  report.after_40ms = ids(log);
  report.clock_moved = Clock::now() - start;
  for (auto& handle : handles) joined(co_await handle, "sleeper");
  co_return report;
}

TEST(TimePause, AdvanceFiresExactlyTheTimersDueWithinIt) {
  auto runtime = rt::Builder::current_thread().build();
  const auto report = runtime.block_on(advance_in_steps());
  EXPECT_EQ(report.after_25ms, (std::vector<int>{10, 20}));
  EXPECT_EQ(report.after_30ms, (std::vector<int>{10, 20, 30}));
  EXPECT_EQ(report.after_39ms, (std::vector<int>{10, 20, 30}));
  EXPECT_EQ(report.timers_after_39ms, 1u);
  EXPECT_EQ(report.after_40ms, (std::vector<int>{10, 20, 30, 40}));
  EXPECT_EQ(report.clock_moved, 40ms);
}

rt::Task<std::vector<Clock::duration>> interval_ticks(rt::MissedTickBehavior behavior,
                                                      Clock::duration late_by) {
  rt::time::pause();
  const Clock::time_point start = Clock::now();
  auto interval = rt::interval(10ms, behavior);
  std::vector<Clock::duration> ticks;
  for (int i = 0; i < 3; ++i) ticks.push_back(co_await interval.tick() - start);
  co_await rt::time::advance(late_by);  // the task is busy past the next ticks
  for (int i = 0; i < 3; ++i) ticks.push_back(co_await interval.tick() - start);
  co_return ticks;
}

std::vector<Clock::duration> ticks_on_a_new_runtime(rt::MissedTickBehavior behavior) {
  auto runtime = rt::Builder::current_thread().build();
  return runtime.block_on(interval_ticks(behavior, 25ms));
}

TEST(TimePause, IntervalTicksOnThePausedClock) {
  using V = std::vector<Clock::duration>;
  // Ticks at 0, 10, 20; then the task is busy until 45 (ticks 30 and 40 late).
  EXPECT_EQ(ticks_on_a_new_runtime(rt::MissedTickBehavior::burst),
            (V{0ms, 10ms, 20ms, 30ms, 40ms, 50ms}));
  EXPECT_EQ(ticks_on_a_new_runtime(rt::MissedTickBehavior::skip),
            (V{0ms, 10ms, 20ms, 30ms, 50ms, 60ms}));
  EXPECT_EQ(ticks_on_a_new_runtime(rt::MissedTickBehavior::delay),
            (V{0ms, 10ms, 20ms, 30ms, 55ms, 65ms}));
}

struct IoReport {
  bool read_won = false;
  std::size_t received = 0;
  Clock::duration clock_moved{};
};

rt::Task<IoReport> read_or_sleep_an_hour(rt::net::TcpStream* server, Clock::time_point start) {
  std::array<std::byte, 16> buffer;
  auto first = co_await rt::select(server->read(buffer), rt::sleep(1h));
  IoReport report;
  report.clock_moved = Clock::now() - start;
  if (first.index() == 0) {
    report.read_won = true;
    report.received = must(std::get<0>(std::move(first)), "read");
  }
  co_return report;
}

rt::Task<IoReport> io_while_paused() {
  rt::time::pause();
  const Clock::time_point start = Clock::now();
  // Connect and accept wait on the driver too: they complete on I/O readiness alone.
  auto listener = must(rt::net::TcpListener::bind(rt::net::SocketAddr::ipv4_loopback(0)), "bind");
  auto client =
      must(co_await rt::net::TcpStream::connect(must(listener.local_addr(), "addr")), "connect");
  auto server = std::move(must(co_await listener.accept(), "accept").first);
  auto reader = rt::spawn(read_or_sleep_an_hour(&server, start));
  co_await until_armed(1);  // the reader waits for its read and its hour
  // Loopback delivers before write returns: when the runtime next has nothing to run, the
  // read's readiness is pending in epoll while the hour is the next timer.
  const std::array<std::byte, 4> ping{std::byte{'p'}, std::byte{'i'}, std::byte{'n'},
                                      std::byte{'g'}};
  must(co_await client.write_all(ping), "write");
  co_return joined(co_await reader, "reader");
}

TEST(TimePause, ReadyIoRunsBeforeTheClockAutoAdvances) {
  auto runtime = rt::Builder::current_thread().build();
  const auto report = runtime.block_on(io_while_paused());
  EXPECT_TRUE(report.read_won) << "auto-advance jumped to the hour over a pending read";
  EXPECT_EQ(report.received, 4u);
  EXPECT_EQ(report.clock_moved, 0ms);
}

struct BlockingJobReport {
  bool timed_out = true;
  int value = 0;
  Clock::duration clock_moved_during_job{};
  Clock::duration hour_sleep_took{};
};

// A spawn_blocking job is real time passing that the paused clock cannot see: until it ends,
// auto-advance must not jump to the timeout's deadline (Tokio's rule). Once it has ended, the
// clock auto-advances again.
rt::Task<BlockingJobReport> timeout_around_a_blocking_job() {
  rt::time::pause();
  const Clock::time_point start = Clock::now();
  auto job = rt::spawn_blocking([] {
    std::this_thread::sleep_for(50ms);  // the behaviour under test: a job that takes real time
    return 7;
  });
  auto bounded = rt::timeout(1h, std::move(job));
  auto outcome = co_await std::move(bounded);
  BlockingJobReport report;
  report.clock_moved_during_job = Clock::now() - start;
  if (outcome) {
    report.timed_out = false;
    report.value = joined(std::move(*outcome), "blocking job");
  }
  const Clock::time_point before_sleep = Clock::now();
  co_await rt::sleep(1h);
  report.hour_sleep_took = Clock::now() - before_sleep;
  co_return report;
}

TEST(TimePause, ABlockingJobHoldsAutoAdvanceBack) {
  auto runtime = rt::Builder::current_thread().build();
  const auto report = runtime.block_on(timeout_around_a_blocking_job());
  EXPECT_FALSE(report.timed_out) << "auto-advance fired the timeout while the job ran";
  EXPECT_EQ(report.value, 7);
  EXPECT_EQ(report.clock_moved_during_job, 0ms);
  EXPECT_EQ(report.hour_sleep_took, 1h) << "auto-advance stayed held back after the job";
}

struct ResumeReport {
  Clock::duration paused_for{};
  Clock::duration ahead_after_resume{};
};

rt::Task<ResumeReport> pause_advance_resume() {
  rt::time::pause();
  const Clock::time_point paused_at = Clock::now();
  co_await rt::time::advance(1h);
  ResumeReport report;
  report.paused_for = Clock::now() - paused_at;
  rt::time::resume();
  co_await rt::sleep(1ms);  // a real millisecond again
  report.ahead_after_resume = Clock::now() - paused_at;
  co_return report;
}

TEST(TimePause, ResumedClockRunsOnFromWhereItWasLeft) {
  auto runtime = rt::Builder::current_thread().build();
  const auto report = runtime.block_on(pause_advance_resume());
  EXPECT_EQ(report.paused_for, 1h);
  EXPECT_GE(report.ahead_after_resume, 1h + 1ms) << "the clock went back after resume";
}

class TimePauseDeathTest : public ::testing::Test {
 protected:
  TimePauseDeathTest() { GTEST_FLAG_SET(death_test_style, "threadsafe"); }
};

rt::Task<void> pause_only() {
  rt::time::pause();
  co_return;
}

rt::Task<void> pause_twice() {
  rt::time::pause();
  rt::time::pause();
  co_return;
}

rt::Task<void> advance_unpaused() { co_await rt::time::advance(1ms); }

rt::Task<void> resume_unpaused() {
  rt::time::resume();
  co_return;
}

TEST_F(TimePauseDeathTest, PauseOnTheMultiThreadFlavor) {
  EXPECT_DEATH(rt::Builder::multi_thread().worker_threads(1).build().block_on(pause_only()),
               "time::pause needs a current-thread runtime");
}

TEST_F(TimePauseDeathTest, PauseTwice) {
  EXPECT_DEATH(rt::Builder::current_thread().build().block_on(pause_twice()), "already paused");
}

TEST_F(TimePauseDeathTest, AdvanceWhileNotPaused) {
  EXPECT_DEATH(rt::Builder::current_thread().build().block_on(advance_unpaused()),
               "time::advance: the clock is not paused");
}

TEST_F(TimePauseDeathTest, ResumeWhileNotPaused) {
  EXPECT_DEATH(rt::Builder::current_thread().build().block_on(resume_unpaused()),
               "time::resume: the clock is not paused");
}

TEST_F(TimePauseDeathTest, PauseWithNoRuntime) {
  EXPECT_DEATH(rt::time::pause(), "no runtime on this thread");
}

}  // namespace
