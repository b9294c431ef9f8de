// spawn(fn, args...): the callable lives as long as its task, the arguments are moved (never
// copied) into the coroutine, a task that throws still reports through its JoinHandle, and the
// task reuses the room behind its cell once the kind of spawn has been seen. Under ASan a
// dangling capture or a frame freed twice fails these tests.
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "brigade/runtime/runtime.hpp"
#include "brigade/runtime/spawn.hpp"
#include "brigade/runtime/sync/oneshot.hpp"
#include "brigade/runtime/task.hpp"
#include "brigade/runtime/time.hpp"
#include "brigade/runtime/timeout.hpp"
#include "result_helpers.hpp"

namespace rt = brigade::runtime;
using brigade::testing::joined;
using brigade::testing::unless_hung;
using namespace std::chrono_literals;

namespace {

constexpr auto kHang = 20s;  // only reached when something that should wake does not

class SpawnFn : public ::testing::TestWithParam<bool> {
 protected:
  static rt::Runtime make_runtime() {
    return GetParam() ? rt::Builder::multi_thread().worker_threads(2).build()
                      : rt::Builder::current_thread().build();
  }
};

// Spawns a lambda coroutine whose captures are only read after `go` fires, when the scope that
// made the lambda (this function's frame) is long gone.
rt::JoinHandle<std::string> spawn_with_captures(rt::oneshot::Receiver<int> release) {
  std::string prefix = "captured-";
  auto owned = std::make_unique<std::string>("owned");
  auto fn = [prefix, owned = std::move(owned)](rt::oneshot::Receiver<int> go,
                                              std::string suffix) -> rt::Task<std::string> {
    static_cast<void>(co_await go);
    co_return prefix + *owned + suffix;
  };
  return rt::spawn(std::move(fn), std::move(release), std::string("-arg"));
}

rt::Task<std::string> captures_outlive_the_caller() {
  auto [tx, rx] = rt::oneshot::channel<int>();
  auto handle = spawn_with_captures(std::move(rx));
  co_await rt::sleep(1ms);  // the task has started and suspended with its captures in use
  static_cast<void>(tx.send(1));
  co_return joined(unless_hung(co_await rt::timeout(kHang, std::move(handle)), "join"), "task");
}

TEST_P(SpawnFn, LambdaCapturesOutliveTheScopeThatSpawnedIt) {
  auto runtime = make_runtime();
  EXPECT_EQ(runtime.block_on(captures_outlive_the_caller()), "captured-owned-arg");
}

// Counts how it was made.
struct Counted {
  int copies = 0;
  int moves = 0;
  Counted() = default;
  Counted(const Counted& other) : copies(other.copies + 1), moves(other.moves) {}
  Counted(Counted&& other) noexcept : copies(other.copies), moves(other.moves + 1) {}
  Counted& operator=(const Counted&) = delete;
  Counted& operator=(Counted&&) = delete;
  ~Counted() = default;
};

rt::Task<int> copies_of(Counted counted, std::unique_ptr<int> move_only) {
  co_return counted.copies * 100 + *move_only;
}

rt::Task<int> moved_not_copied() {
  auto handle = rt::spawn(copies_of, Counted{}, std::make_unique<int>(7));
  co_return joined(unless_hung(co_await rt::timeout(kHang, std::move(handle)), "join"), "task");
}

TEST_P(SpawnFn, ArgumentsAreMovedIntoTheCoroutineNeverCopied) {
  auto runtime = make_runtime();
  EXPECT_EQ(runtime.block_on(moved_not_copied()), 7);  // no copy; the move-only one arrived
}

rt::Task<int> throws_after_a_suspension(int value) {
  co_await rt::sleep(1ms);
  if (value > 0) throw std::runtime_error("thrown by the task");
  co_return value;
}

rt::Task<std::string> panic_through_the_handle() {
  auto handle = rt::spawn(throws_after_a_suspension, 1);
  auto outcome = unless_hung(co_await rt::timeout(kHang, std::move(handle)), "join");
  if (outcome || !outcome.error().is_panic()) co_return "no panic reported";
  try {
    std::rethrow_exception(outcome.error().panic());
  } catch (const std::runtime_error& error) {
    co_return error.what();
  }
}

TEST_P(SpawnFn, ATaskThatThrowsReportsThroughItsJoinHandle) {
  auto runtime = make_runtime();
  EXPECT_EQ(runtime.block_on(panic_through_the_handle()), "thrown by the task");
}

// Many tasks of the same kind, alive together and finishing on any worker: after the first, each
// frame sits in the room behind its cell; cancelled ones free it as well as finished ones.
rt::Task<int> many_alive_at_once() {
  constexpr int kTasks = 500;
  std::vector<rt::oneshot::Sender<int>> go;
  std::vector<rt::JoinHandle<int>> handles;
  auto add = [](rt::oneshot::Receiver<int> rx, int base) -> rt::Task<int> {
    auto value = co_await rx;
    co_return base + (value ? *value : 0);
  };
  for (int i = 0; i < kTasks; ++i) {
    auto [tx, rx] = rt::oneshot::channel<int>();
    go.push_back(std::move(tx));
    handles.push_back(rt::spawn(add, std::move(rx), i));
  }
  for (int i = 0; i < kTasks; i += 2) static_cast<void>(go[static_cast<std::size_t>(i)].send(1));
  for (int i = 1; i < kTasks; i += 2) handles[static_cast<std::size_t>(i)].abort();
  int sum = 0;
  for (int i = 0; i < kTasks; ++i) {
    auto outcome =
        unless_hung(co_await rt::timeout(kHang, std::move(handles[static_cast<std::size_t>(i)])),
                    "join");
    if (i % 2 == 0) sum += joined(std::move(outcome), "finished task");
    if (i % 2 == 1 && (outcome || !outcome.error().is_cancelled())) co_return -1;
  }
  co_return sum;
}

TEST_P(SpawnFn, ManyTasksOfOneKindFinishOrAreCancelled) {
  auto runtime = make_runtime();
  int expected = 0;
  for (int i = 0; i < 500; i += 2) expected += i + 1;
  EXPECT_EQ(runtime.block_on(many_alive_at_once()), expected);
}

// Left for shutdown to cancel: the cell's destructor destroys the frame in its room and the
// callable behind it.
TEST_P(SpawnFn, ShutdownFreesTasksThatNeverFinished) {
  auto weak = std::make_shared<int>(0);
  std::weak_ptr<int> watch = weak;
  {
    auto runtime = make_runtime();
    runtime.block_on([](std::shared_ptr<int> held) -> rt::Task<void> {
      for (int i = 0; i < 3; ++i) {
        static_cast<void>(rt::spawn(
            [held](int) -> rt::Task<void> {
              for (;;) co_await rt::sleep(1h);
            },
            i));
      }
      co_return;
    }(std::move(weak)));
  }
  EXPECT_TRUE(watch.expired());
}

rt::Task<int> plus_one(int value) {
  co_await rt::yield_now();
  co_return value + 1;
}

// Returns the Task of the second coroutine it creates when `detour` is set.
rt::Task<int> detour_first(bool detour, int value) {
  if (detour) {
    auto discarded = plus_one(-1);
    static_cast<void>(discarded);
  }
  return plus_one(value);
}

rt::Task<int> spawn_detour_twice() {
  auto first = rt::spawn(detour_first, true, 1);
  auto second = rt::spawn(detour_first, true, 2);
  const int a = joined(unless_hung(co_await rt::timeout(kHang, std::move(first)), "join"), "1");
  const int b = joined(unless_hung(co_await rt::timeout(kHang, std::move(second)), "join"), "2");
  co_return a + b;
}

TEST_P(SpawnFn, AFunctionThatCreatesAnotherCoroutineFirstStillRuns) {
  auto runtime = make_runtime();
  EXPECT_EQ(runtime.block_on(spawn_detour_twice()), 5);
}

rt::Task<void> detour_after_learning() {
  auto learned = rt::spawn(detour_first, false, 1);  // the frame size of plus_one is learned
  static_cast<void>(co_await std::move(learned));
  static_cast<void>(rt::spawn(detour_first, true, 2));  // the detour's frame takes the room
}

TEST_P(SpawnFn, ADetourAfterTheFrameSizeWasLearnedTerminatesWithAMessage) {
  EXPECT_DEATH(make_runtime().block_on(detour_after_learning()),
               "fn created another coroutine before the one it returned");
}

INSTANTIATE_TEST_SUITE_P(Flavors, SpawnFn, ::testing::Values(true, false),
                         [](const auto& param_info) {
                           return param_info.param ? "MultiThread" : "CurrentThread";
                         });

}  // namespace
