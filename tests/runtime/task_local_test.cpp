// Task-local values: a scope's value is seen by everything its task awaits, across suspensions
// and across workers (tasks that yield over and over get stolen), never by another task polled
// on the same worker in between, and not outside a scope (a std::logic_error).
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "brigade/runtime/runtime.hpp"
#include "brigade/runtime/select.hpp"
#include "brigade/runtime/spawn.hpp"
#include "brigade/runtime/sync/oneshot.hpp"
#include "brigade/runtime/task.hpp"
#include "brigade/runtime/task_local.hpp"
#include "brigade/runtime/time.hpp"
#include "brigade/runtime/timeout.hpp"
#include "result_helpers.hpp"

namespace rt = brigade::runtime;
using brigade::testing::joined;
using brigade::testing::unless_hung;
using namespace std::chrono_literals;

namespace {

constexpr auto kHang = 20s;  // only reached when something that should wake does not

const rt::TaskLocal<int> number;
const rt::TaskLocal<std::string> name;

class TaskLocalTest : public ::testing::TestWithParam<bool> {
 protected:
  static rt::Runtime make_runtime() {
    return GetParam() ? rt::Builder::multi_thread().worker_threads(2).build()
                      : rt::Builder::current_thread().build();
  }
};

rt::Task<int> read_after_suspending() {
  co_await rt::sleep(1ms);
  co_await rt::yield_now();
  co_return number.get();
}

rt::Task<std::vector<int>> nested_scopes() {
  std::vector<int> seen;
  seen.push_back(co_await read_after_suspending());
  seen.push_back(co_await number.scope(2, read_after_suspending()));  // the inner one shadows
  seen.push_back(number.get());                                       // and ends with its scope
  seen.push_back(co_await name.scope("n", []() -> rt::Task<int> { co_return number.get(); }()));
  co_return seen;
}

TEST_P(TaskLocalTest, ScopeValueIsSeenAcrossSuspensionsAndInnerScopesShadowIt) {
  auto runtime = make_runtime();
  EXPECT_EQ(runtime.block_on(number.scope(1, nested_scopes())), (std::vector<int>{1, 2, 1, 1}));
}

rt::Task<std::string> get_outside_a_scope() {
  if (number.try_get() != nullptr) co_return "try_get gave a value";
  try {
    static_cast<void>(number.get());
  } catch (const std::logic_error& error) {
    co_return error.what();
  }
  co_return "no error";
}

TEST_P(TaskLocalTest, GetOutsideAScopeThrowsLogicError) {
  auto runtime = make_runtime();
  const std::string message = runtime.block_on(get_outside_a_scope());
  EXPECT_NE(message.find("outside any scope"), std::string::npos) << message;
  EXPECT_THROW(static_cast<void>(number.get()), std::logic_error);  // no task at all
}

rt::Task<bool> spawned_task_sees_nothing() {
  auto handle = rt::spawn([]() -> rt::Task<bool> {
    co_await rt::yield_now();
    co_return number.try_get() == nullptr;
  }());
  co_return joined(unless_hung(co_await rt::timeout(kHang, std::move(handle)), "join"), "task");
}

TEST_P(TaskLocalTest, ATaskSpawnedInsideAScopeDoesNotInheritIt) {
  auto runtime = make_runtime();
  EXPECT_TRUE(runtime.block_on(number.scope(5, spawned_task_sees_nothing())));
}

// A scope in a select branch that loses is destroyed inside the running task; the outer value
// stays.
rt::Task<int> losing_branch_leaves_the_outer_value() {
  auto [tx, rx] = rt::oneshot::channel<int>();
  static_cast<void>(tx.send(0));
  auto lose = number.scope(9, []() -> rt::Task<void> { co_await rt::sleep(1h); }());
  static_cast<void>(co_await rt::select(std::move(rx), std::move(lose)));
  co_await rt::yield_now();
  co_return number.get();
}

TEST_P(TaskLocalTest, AScopeThatLosesASelectLeavesTheOuterValue) {
  auto runtime = make_runtime();
  EXPECT_EQ(runtime.block_on(number.scope(3, losing_branch_leaves_the_outer_value())), 3);
}

TEST_P(TaskLocalTest, SyncScopeBindsForTheCallOnly) {
  EXPECT_EQ(number.sync_scope(4, [] { return number.get(); }), 4);
  EXPECT_EQ(number.try_get(), nullptr);
  auto runtime = make_runtime();
  const int inside = runtime.block_on(number.scope(6, []() -> rt::Task<int> {
    const int shadowed = number.sync_scope(7, [] { return number.with([](int v) { return v; }); });
    co_await rt::yield_now();
    co_return shadowed * 10 + number.get();
  }()));
  EXPECT_EQ(inside, 76);
}

INSTANTIATE_TEST_SUITE_P(Flavors, TaskLocalTest, ::testing::Values(true, false),
                         [](const auto& param_info) {
                           return param_info.param ? "MultiThread" : "CurrentThread";
                         });

// ---- across workers -----------------------------------------------------------------------------

constexpr int kTasks = 200;
constexpr int kYields = 200;

struct Seen {
  bool right = true;  // every read gave this task's own value (or none, unscoped)
  bool moved = false;  // resumed on more than one worker
};

// Yields over and over, so that it goes to the back of its worker's queue each time and the
// other worker steals it; checks its value after every resume.
rt::Task<Seen> yield_and_check(int expected) {
  Seen seen;
  const auto first = std::this_thread::get_id();
  for (int i = 0; i < kYields; ++i) {
    co_await rt::yield_now();
    const int* value = number.try_get();
    if (expected < 0 ? value != nullptr : value == nullptr || *value != expected) {
      seen.right = false;
    }
    if (std::this_thread::get_id() != first) seen.moved = true;
  }
  co_return seen;
}

struct Tally {
  int wrong = 0;
  int moved = 0;
};

// Even tasks are scoped with their index, odd ones are not: a worker alternates between them.
rt::Task<Tally> many_tasks_on_two_workers() {
  std::vector<rt::JoinHandle<Seen>> handles;
  for (int i = 0; i < kTasks; ++i) {
    handles.push_back(i % 2 == 0 ? rt::spawn(number.scope(i, yield_and_check(i)))
                                 : rt::spawn(yield_and_check(-1)));
  }
  Tally tally;
  for (auto& handle : handles) {
    const Seen seen =
        joined(unless_hung(co_await rt::timeout(kHang, std::move(handle)), "join"), "task");
    if (!seen.right) ++tally.wrong;
    if (seen.moved) ++tally.moved;
  }
  co_return tally;
}

// Whether the idle worker steals depends on timing: the round is repeated until tasks did change
// worker (most rounds they do), and every round must be right.
TEST(TaskLocalAcrossWorkers, ValuesFollowTheirTaskAndNeverShowInAnother) {
  constexpr int kMaxRounds = 50;
  int moved = 0;
  for (int round = 0; round < kMaxRounds && moved == 0; ++round) {
    auto runtime = rt::Builder::multi_thread().worker_threads(2).build();
    const Tally tally = runtime.block_on(many_tasks_on_two_workers());
    EXPECT_EQ(tally.wrong, 0) << "round " << round;
    moved = tally.moved;
  }
  EXPECT_GT(moved, 0) << "no task changed worker in " << kMaxRounds << " rounds";
  std::printf("tasks that changed worker in the last round: %d of %d\n", moved, kTasks);
}

}  // namespace
