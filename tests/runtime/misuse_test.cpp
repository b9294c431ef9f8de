// Misuse fails fast with a message naming it, where Tokio panics, instead of hanging or going on
// undefined: a zero Interval period, block_on entered twice on a current-thread runtime, a
// runtime shut down from its own task, the runtime used from a thread that has none, block_in_place
// on the current-thread flavor. Huge durations saturate, as in Tokio.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "brigade/runtime/net/socket_addr.hpp"
#include "brigade/runtime/net/tcp.hpp"
#include "brigade/runtime/runtime.hpp"
#include "brigade/runtime/select.hpp"
#include "brigade/runtime/spawn.hpp"
#include "brigade/runtime/sync/oneshot.hpp"
#include "brigade/runtime/time.hpp"
#include "brigade/runtime/timeout.hpp"

namespace rt = brigade::runtime;
using namespace std::chrono_literals;

namespace {

class MisuseDeathTest : public ::testing::Test {
 protected:
  MisuseDeathTest() { GTEST_FLAG_SET(death_test_style, "threadsafe"); }
};

TEST_F(MisuseDeathTest, IntervalWithAZeroPeriod) {
  EXPECT_DEATH(rt::interval(0ms), "Interval with a zero period");
}

rt::Task<int> value() { co_return 1; }

TEST_F(MisuseDeathTest, SpawnWithNoRuntime) {
  EXPECT_DEATH(static_cast<void>(rt::spawn(value())), "no runtime on this thread");
}

TEST_F(MisuseDeathTest, IoWithNoRuntime) {
  EXPECT_DEATH(static_cast<void>(rt::net::TcpListener::bind(rt::net::SocketAddr::ipv4_loopback(0))),
               "no runtime on this thread");
}

TEST_F(MisuseDeathTest, HandleCurrentWithNoRuntime) {
  EXPECT_DEATH(static_cast<void>(rt::Handle::current()), "no runtime on this thread");
}

rt::Task<int> wait_for(rt::oneshot::Receiver<int> go);

// Its wait is registered with the task that started it: run elsewhere, its wake-up would resume
// it under the wrong task.
rt::Task<void> spawn_a_started_task() {
  auto [tx, rx] = rt::oneshot::channel<int>();
  auto task = wait_for(std::move(rx));
  static_cast<void>(task.start());
  static_cast<void>(rt::spawn(std::move(task)));
  co_return;
}

TEST_F(MisuseDeathTest, SpawnOfAStartedTask) {
  EXPECT_DEATH(rt::Builder::current_thread().build().block_on(spawn_a_started_task()),
               "spawn of a started Task");
}

rt::Task<int> wait_for(rt::oneshot::Receiver<int> go) {
  auto got = co_await go;
  co_return got ? *got : -1;
}

// The second block_on would run the same worker loop on a second thread.
void block_on_from_two_threads() {
  auto runtime = rt::Builder::current_thread().build();
  auto [tx, rx] = rt::oneshot::channel<int>();
  std::thread first([&] { static_cast<void>(runtime.block_on(wait_for(std::move(rx)))); });
  // No way to know from outside when `first` is inside block_on; try until it is.
  for (;;) static_cast<void>(runtime.block_on(value()));
}

TEST_F(MisuseDeathTest, BlockOnFromTwoThreadsOnACurrentThreadRuntime) {
  EXPECT_DEATH(block_on_from_two_threads(), "block_on entered from two threads");
}

rt::Task<void> shut_down_own_runtime(rt::Runtime* runtime) {
  runtime->shutdown_timeout(1s);
  co_return;
}

TEST_F(MisuseDeathTest, ShutdownFromOneOfItsOwnTasks) {
  EXPECT_DEATH(
      {
        auto runtime = rt::Builder::multi_thread().worker_threads(1).build();
        runtime.block_on(shut_down_own_runtime(&runtime));
      },
      "shut down from one of its own tasks");
}

rt::Task<void> destroy_own_runtime(rt::Runtime* runtime) {
  { auto gone = std::move(*runtime); }
  co_return;
}

TEST_F(MisuseDeathTest, DestructionFromOneOfItsOwnTasks) {
  EXPECT_DEATH(
      {
        auto runtime = rt::Builder::current_thread().build();
        runtime.block_on(destroy_own_runtime(&runtime));
      },
      "shut down from one of its own tasks");
}

// ---- huge durations saturate --------------------------------------------------------------------

struct HugeOutcome {
  bool short_sleep_won = false;
  bool timeout_passed_the_value = false;
  bool deadline_saturated = false;
};

rt::Task<HugeOutcome> huge_durations() {
  HugeOutcome out;
  auto huge = rt::sleep(std::chrono::hours::max());
  out.deadline_saturated = huge.deadline() == rt::Clock::time_point::max();
  // Wrapped around, the huge sleep would be in the past and win at once.
  auto first = co_await rt::select(std::move(huge), rt::sleep(10ms));
  out.short_sleep_won = first.index() == 1;
  auto passed = co_await rt::timeout(std::chrono::seconds::max(), value());
  out.timeout_passed_the_value = passed && *passed == 1;
  co_return out;
}

TEST(HugeDurations, SleepsAndTimeoutsSaturateInsteadOfOverflowing) {
  auto runtime = rt::Builder::multi_thread().worker_threads(2).build();
  const auto out = runtime.block_on(huge_durations());
  EXPECT_TRUE(out.deadline_saturated);
  EXPECT_TRUE(out.short_sleep_won);
  EXPECT_TRUE(out.timeout_passed_the_value);
}

}  // namespace
