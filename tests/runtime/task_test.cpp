// Tasks and JoinHandles: values, exceptions, abort, detach, nesting, block_on.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "brigade/runtime/runtime.hpp"
#include "brigade/runtime/select.hpp"
#include "brigade/runtime/sync/oneshot.hpp"
#include "brigade/runtime/time.hpp"

namespace rt = brigade::runtime;
using namespace std::chrono_literals;

namespace {

rt::Task<int> answer() { co_return 42; }

rt::Task<int> add(int a, int b) { co_return co_await answer() - 42 + a + b; }

rt::Task<int> throws_after_await() {
  co_await rt::yield_now();
  throw std::runtime_error("boom");
}

rt::Task<void> sleep_forever(std::shared_ptr<int> held) {
  co_await rt::sleep(1h);
  ++*held;
}

struct SetOnDestroy {
  std::atomic<bool>* flag;
  ~SetOnDestroy() { flag->store(true); }
};

class TaskTest : public ::testing::TestWithParam<bool> {
 protected:
  rt::Runtime make() {
    return GetParam() ? rt::Builder::multi_thread().worker_threads(2).build()
                      : rt::Builder::current_thread().build();
  }
};

TEST_P(TaskTest, BlockOnReturnsTheValue) {
  auto runtime = make();
  EXPECT_EQ(runtime.block_on(add(1, 2)), 3);
}

TEST_P(TaskTest, BlockOnRethrows) {
  auto runtime = make();
  EXPECT_THROW(runtime.block_on(throws_after_await()), std::runtime_error);
}

rt::Task<int> spawn_and_join() {
  auto handle = rt::spawn(add(20, 22));
  auto result = co_await handle;
  co_return result.value();
}

TEST_P(TaskTest, SpawnedTaskValueArrivesThroughTheHandle) {
  auto runtime = make();
  EXPECT_EQ(runtime.block_on(spawn_and_join()), 42);
}

rt::Task<std::string> join_panic() {
  auto result = co_await rt::spawn(throws_after_await());
  if (result) co_return "no error";
  if (!result.error().is_panic()) co_return "not a panic";
  try {
    result.error().resume_panic();
  } catch (const std::runtime_error& e) {
    co_return e.what();
  }
  co_return "not rethrown";
}

TEST_P(TaskTest, ExceptionBecomesPanicJoinError) {
  auto runtime = make();
  EXPECT_EQ(runtime.block_on(join_panic()), "boom");
}

// Each counts itself in `at_sleep` once its frame holds what the test checks (the copy of `held`,
// the guard), just before it awaits the sleep.
rt::Task<void> count_then_sleep_forever(std::shared_ptr<int> held, std::atomic<int>* at_sleep) {
  at_sleep->fetch_add(1);
  co_await rt::sleep(1h);
  ++*held;
}

rt::Task<void> hold_guard_count_then_sleep(std::atomic<bool>* destroyed,
                                           std::atomic<int>* at_sleep) {
  SetOnDestroy guard{destroyed};
  at_sleep->fetch_add(1);
  co_await rt::sleep(1h);
}

rt::Task<bool> abort_sleeper(std::shared_ptr<int> held, std::atomic<bool>* destroyed) {
  std::atomic<int> at_sleep{0};
  auto sleeper = rt::spawn(count_then_sleep_forever(held, &at_sleep));
  auto guarded = rt::spawn(hold_guard_count_then_sleep(destroyed, &at_sleep));
  // Both have started and hold their copy and guard: the abort must cancel them at the sleep
  // (had it landed before they started, the guard would never have existed).
  while (at_sleep.load() < 2) co_await rt::yield_now();
  sleeper.abort();
  guarded.abort();
  auto first = co_await sleeper;
  auto second = co_await guarded;
  co_return !first && first.error().is_cancelled() && !second && second.error().is_cancelled();
}

TEST_P(TaskTest, AbortCancelsAtTheSuspensionPointAndFreesTheFrame) {
  auto runtime = make();
  auto held = std::make_shared<int>(0);
  std::atomic<bool> destroyed{false};
  EXPECT_TRUE(runtime.block_on(abort_sleeper(held, &destroyed)));
  EXPECT_TRUE(destroyed.load());
  EXPECT_EQ(*held, 0);
  EXPECT_EQ(held.use_count(), 1);  // the aborted frame released its copy
}

rt::Task<void> count_to(std::atomic<int>* counter) {
  co_await rt::yield_now();
  counter->fetch_add(1);
}

rt::Task<void> detach_many(std::atomic<int>* counter, int n) {
  for (int i = 0; i < n; ++i) {
    static_cast<void>(rt::spawn(count_to(counter)));  // dropped handle: detached
  }
  while (counter->load() < n) co_await rt::yield_now();
}

TEST_P(TaskTest, DroppingTheHandleDetaches) {
  auto runtime = make();
  std::atomic<int> counter{0};
  runtime.block_on(detach_many(&counter, 100));
  EXPECT_EQ(counter.load(), 100);
}

rt::Task<bool> is_finished_flow() {
  auto handle = rt::spawn(answer());
  while (!handle.is_finished()) co_await rt::yield_now();
  auto value = co_await handle;
  co_return value&&* value == 42;
}

TEST_P(TaskTest, IsFinished) {
  auto runtime = make();
  EXPECT_TRUE(runtime.block_on(is_finished_flow()));
}

rt::Task<bool> join_error_names_spawn_site() {
  auto handle = rt::spawn(throws_after_await());
  const auto spawn_line = static_cast<std::uint_least32_t>(__LINE__ - 1);
  auto result = co_await handle;
  const auto& where = result.error().spawned_at();
  co_return where.line() ==
          spawn_line&& std::string(where.file_name()).ends_with("task_test.cpp") &&
      result.error().message().find("task_test.cpp") != std::string::npos;
}

TEST_P(TaskTest, JoinErrorNamesTheSpawnSite) {
  auto runtime = make();
  EXPECT_TRUE(runtime.block_on(join_error_names_spawn_site()));
}

TEST_P(TaskTest, ShutdownCancelsWhatIsLeft) {
  auto held = std::make_shared<int>(0);
  {
    auto runtime = make();
    for (int i = 0; i < 10; ++i) static_cast<void>(runtime.spawn(sleep_forever(held)));
    runtime.shutdown_timeout(5s);
  }
  EXPECT_EQ(*held, 0);
  EXPECT_EQ(held.use_count(), 1);
}

TEST_P(TaskTest, SpawnFromAnotherThreadThroughAHandle) {
  auto runtime = make();
  auto handle = runtime.handle();
  std::atomic<int> counter{0};
  std::thread outside([&] {
    for (int i = 0; i < 50; ++i) static_cast<void>(handle.spawn(count_to(&counter)));
  });
  outside.join();
  runtime.block_on([](std::atomic<int>* c) -> rt::Task<void> {
    while (c->load() < 50) co_await rt::yield_now();
  }(&counter));
  EXPECT_EQ(counter.load(), 50);
}

rt::Task<long> sum_of_ready_tasks(int count) {
  long sum = 0;
  for (int i = 0; i < count; ++i) sum += co_await answer();
  co_return sum;
}

// Each awaited task finishes at once; if awaiting nested a call per iteration (symmetric transfer
// is not a tail call without optimisation), this would overflow the stack in Debug and sanitizer
// builds.
TEST_P(TaskTest, AwaitingTasksThatFinishAtOnceInALoopDoesNotGrowTheStack) {
  auto runtime = make();
  constexpr int kCount = 1'000'000;
  EXPECT_EQ(runtime.block_on(sum_of_ready_tasks(kCount)), 42L * kCount);
}

// --- Task::start ---------------------------------------------------------------------------------

rt::Task<int> counted_answer(int& runs) {
  ++runs;
  co_return 42;
}

rt::Task<int> counted_wait(int& runs, rt::oneshot::Receiver<int> value) {
  ++runs;
  auto got = co_await value;
  co_return got ? *got : -1;
}

rt::Task<int> start_then_await_finished(int& runs) {
  auto task = counted_answer(runs);
  const bool finished = task.start();
  const int value = co_await std::move(task);
  co_return finished ? value : -1;
}

TEST_P(TaskTest, StartedTaskThatFinishedGivesItsValueWithoutRunningAgain) {
  auto runtime = make();
  int runs = 0;
  EXPECT_EQ(runtime.block_on(start_then_await_finished(runs)), 42);
  EXPECT_EQ(runs, 1);
}

// The sender is dropped only after the task has started and waits: awaiting goes on from there.
rt::Task<int> start_then_await_waiting(int& runs) {
  auto [tx, rx] = rt::oneshot::channel<int>();
  auto task = counted_wait(runs, std::move(rx));
  if (task.start()) co_return -2;
  auto sender = rt::spawn(
      [](rt::oneshot::Sender<int> out) -> rt::Task<void> {
        co_await rt::yield_now();
        static_cast<void>(out.send(7));
      },
      std::move(tx));
  const int value = co_await std::move(task);
  co_await sender;
  co_return value;
}

TEST_P(TaskTest, StartedTaskThatWaitsIsAwaitedFromWhereItStands) {
  auto runtime = make();
  int runs = 0;
  EXPECT_EQ(runtime.block_on(start_then_await_waiting(runs)), 7);
  EXPECT_EQ(runs, 1);
}

rt::Task<int> wait_holding(rt::oneshot::Receiver<int> value, std::atomic<bool>* destroyed) {
  SetOnDestroy guard{destroyed};
  auto got = co_await value;
  co_return got ? *got : -1;
}

// A started task that waits can race in a select: it wins when woken first, and is cancelled
// (its frame destroyed) when the other operand wins.
rt::Task<int> started_in_select(bool let_it_win, std::atomic<bool>* destroyed) {
  auto [tx, rx] = rt::oneshot::channel<int>();
  auto task = wait_holding(std::move(rx), destroyed);
  if (task.start()) co_return -2;
  if (let_it_win) static_cast<void>(tx.send(5));
  auto first = co_await rt::select(std::move(task), rt::sleep(let_it_win ? 1h : 1ms));
  co_return first.index() == 0 ? std::get<0>(first) : 0;
}

TEST_P(TaskTest, StartedTaskRacesInASelect) {
  auto runtime = make();
  std::atomic<bool> destroyed{false};
  EXPECT_EQ(runtime.block_on(started_in_select(true, &destroyed)), 5);
  EXPECT_TRUE(destroyed.load());
  destroyed = false;
  EXPECT_EQ(runtime.block_on(started_in_select(false, &destroyed)), 0);
  EXPECT_TRUE(destroyed.load());
}

INSTANTIATE_TEST_SUITE_P(Flavors, TaskTest, ::testing::Values(true, false),
                         [](const auto& param_info) {
                           return param_info.param ? "MultiThread" : "CurrentThread";
                         });

}  // namespace
