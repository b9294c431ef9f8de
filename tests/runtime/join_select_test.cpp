// join / join_all / select: results in operand order whatever the completion order, exceptions
// after all finished, the first finisher winning and the losers cancelled (their destructors run,
// tasks they awaited unaffected), operands not started after an immediate winner, 1000 operands,
// nesting, and an aborted parent cancelling its branches.
//
// Branches share plain (non-atomic) locals on purpose: they run inside one task, so never in
// parallel, and ThreadSanitizer would report any overlap.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <coroutine>
#include <expected>
#include <stdexcept>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "brigade/runtime/join.hpp"
#include "brigade/runtime/runtime.hpp"
#include "brigade/runtime/select.hpp"
#include "brigade/runtime/sync/notify.hpp"
#include "brigade/runtime/time.hpp"
#include "runtime_core.hpp"  // white box: the driver's count of armed timers

namespace rt = brigade::runtime;
using namespace std::chrono_literals;

namespace {

enum class Flavor { multi_thread, current_thread };

rt::Runtime make_runtime(Flavor flavor) {
  return flavor == Flavor::multi_thread ? rt::Builder::multi_thread().worker_threads(2).build()
                                        : rt::Builder::current_thread().build();
}

std::string flavor_name(const ::testing::TestParamInfo<Flavor>& info) {
  return info.param == Flavor::multi_thread ? "MultiThread" : "CurrentThread";
}

class JoinSelectTest : public ::testing::TestWithParam<Flavor> {
 protected:
  rt::Runtime runtime_ = make_runtime(GetParam());
};

// Sets a flag when destroyed: shows a cancelled branch ran its destructors.
struct SetOnDestroy {
  bool* flag;
  ~SetOnDestroy() { *flag = true; }
};

rt::Task<int> value_after(std::chrono::milliseconds delay, int value) {
  co_await rt::sleep(delay);
  co_return value;
}

rt::Task<int> ready_value(int value) { co_return value; }

rt::Task<void> nothing() { co_return; }

rt::Task<int> mark_started(bool* started, int value) {
  *started = true;
  co_await rt::sleep(1ms);
  co_return value;
}

rt::Task<int> guarded_sleep(std::chrono::milliseconds delay, bool* destroyed, int value) {
  SetOnDestroy guard{destroyed};
  co_await rt::sleep(delay);
  co_return value;
}

[[noreturn]] void fail(const char* what) { throw std::runtime_error(what); }

rt::Task<int> throw_after_yield(const char* what) {
  co_await rt::yield_now();
  fail(what);
}

rt::Task<int> throw_after(std::chrono::milliseconds delay, const char* what) {
  co_await rt::sleep(delay);
  fail(what);
}

// --- join ----------------------------------------------------------------------------------------

// Waits for `handle`, then records `id`.
rt::Task<int> record_after(rt::JoinHandle<int> handle, int id, std::vector<int>* order) {
  auto result = co_await handle;
  order->push_back(id);
  co_return result.value();
}

// Waits for `handle`, records `id`, then lets the task waiting on `release` finish.
rt::Task<int> record_then_release(rt::JoinHandle<int> handle, int id, std::vector<int>* order,
                                  std::atomic<bool>* release) {
  auto result = co_await handle;
  order->push_back(id);
  release->store(true);
  co_return result.value();
}

rt::Task<int> value_when_released(std::atomic<bool>* release, int value) {
  while (!release->load()) co_await rt::sleep(1ms);
  co_return value;
}

rt::Task<void> join_out_of_order(std::tuple<int, int, std::monostate>* results,
                                 std::vector<int>* order) {
  std::atomic<bool> release{false};
  // Operand 0 can only finish after operand 1 has: a spawned task holds it back until then.
  auto held_back = rt::spawn(value_when_released(&release, 10));
  auto quick = rt::spawn(value_after(1ms, 20));
  *results =
      co_await rt::join(record_after(std::move(held_back), 0, order),
                        record_then_release(std::move(quick), 1, order, &release), nothing());
}

TEST_P(JoinSelectTest, JoinGivesResultsInOperandOrderWhateverTheCompletionOrder) {
  std::tuple<int, int, std::monostate> results;
  std::vector<int> order;
  runtime_.block_on(join_out_of_order(&results, &order));
  EXPECT_EQ(results, std::make_tuple(10, 20, std::monostate{}));
  EXPECT_EQ(order, (std::vector<int>{1, 0}));
}

// Branches of one task touching the same plain locals: a join where one branch waits for a flag
// another sets, all through sleeps, so each branch resumes many times.
rt::Task<int> bump(int* counter, int times) {
  for (int i = 0; i < times; ++i) {
    ++*counter;
    co_await (i % 2 == 0 ? rt::sleep(0ms) : rt::sleep(1ms));
  }
  co_return *counter;
}

rt::Task<int> wait_for_flag(const bool* flag, const int* counter) {
  while (!*flag) co_await rt::sleep(1ms);
  co_return *counter;
}

rt::Task<void> set_flag_after(bool* flag, std::chrono::milliseconds delay) {
  co_await rt::sleep(delay);
  *flag = true;
}

rt::Task<int> branches_share_locals() {
  int counter = 0;
  bool flag = false;
  auto [a, b, seen, unit] =
      co_await rt::join(bump(&counter, 20), bump(&counter, 20), wait_for_flag(&flag, &counter),
                        set_flag_after(&flag, 5ms));
  static_assert(std::is_same_v<decltype(unit), std::monostate>);
  EXPECT_LE(a, 40);
  EXPECT_LE(b, 40);
  EXPECT_EQ(std::max(a, b), 40);
  EXPECT_LE(seen, 40);
  co_return counter;
}

TEST_P(JoinSelectTest, BranchesRunInsideOneTaskAndShareItsLocals) {
  EXPECT_EQ(runtime_.block_on(branches_share_locals()), 40);
}

rt::Task<int> finish_after(std::chrono::milliseconds delay, bool* finished) {
  co_await rt::sleep(delay);
  *finished = true;
  co_return 1;
}

// Fails once `turn` is notified.
rt::Task<int> throw_when_notified(rt::Notify* turn, const char* what) {
  co_await turn->notified();
  fail(what);
}

// Lets `turn`'s waiter go, then fails before it can run.
rt::Task<int> notify_then_throw(rt::Notify* turn, const char* what) {
  co_await rt::yield_now();
  turn->notify_one();
  fail(what);
}

rt::Task<std::string> join_with_failures(bool* others_finished) {
  bool slow_finished = false;
  rt::Notify turn;
  try {
    // Operand 1 fails first, operand 0 right after it (an order no timer or worker can swap);
    // the join waits for operand 2 anyway.
    co_await rt::join(throw_when_notified(&turn, "second"), notify_then_throw(&turn, "first"),
                      finish_after(20ms, &slow_finished));
  } catch (const std::runtime_error& e) {
    *others_finished = slow_finished;
    co_return e.what();
  }
  co_return "no exception";
}

TEST_P(JoinSelectTest, JoinRethrowsTheFirstFailureOnceAllFinished) {
  bool others_finished = false;
  EXPECT_EQ(runtime_.block_on(join_with_failures(&others_finished)), "first");
  EXPECT_TRUE(others_finished);
}

rt::Task<std::tuple<>> empty_join() { co_return co_await rt::join(); }

TEST_P(JoinSelectTest, EmptyJoinCompletesAtOnce) {
  EXPECT_EQ(runtime_.block_on(empty_join()), std::tuple<>());
}

rt::Task<std::tuple<int, std::expected<int, rt::JoinError>>> join_mixed_operands() {
  auto handle = rt::spawn(value_after(1ms, 2));
  // A Task and a JoinHandle (moved in); operands finishing at once during the start phase.
  co_return co_await rt::join(ready_value(1), std::move(handle));
}

TEST_P(JoinSelectTest, JoinTakesTasksAndJoinHandles) {
  auto [a, b] = runtime_.block_on(join_mixed_operands());
  EXPECT_EQ(a, 1);
  ASSERT_TRUE(b.has_value());
  EXPECT_EQ(*b, 2);
}

// Awaits `inner`, counting the times the awaiting coroutine really suspended on it.
template <class Awaitable>
struct CountSuspensions {
  Awaitable inner;
  int* suspensions;

  bool await_ready() { return inner.await_ready(); }
  bool await_suspend(std::coroutine_handle<> awaiting) {
    int* const count = suspensions;  // once `inner` suspended, another thread may free *this
    const bool suspended = inner.await_suspend(awaiting);
    if (suspended) ++*count;
    return suspended;
  }
  decltype(auto) await_resume() { return inner.await_resume(); }
};
template <class Awaitable>
CountSuspensions(Awaitable, int*) -> CountSuspensions<Awaitable>;

rt::Task<std::tuple<int, int>> join_all_ready(int* suspensions) {
  // A named awaiter: GCC 12 destroys an aggregate temporary of a co_await expression twice.
  CountSuspensions counted{rt::join(ready_value(1), ready_value(2)), suspensions};
  co_return co_await counted;
}

TEST_P(JoinSelectTest, JoinOfOperandsReadyAtOnceContinuesWithoutSuspending) {
  int suspensions = 0;
  EXPECT_EQ(runtime_.block_on(join_all_ready(&suspensions)), std::make_tuple(1, 2));
  EXPECT_EQ(suspensions, 0);
}

rt::Task<int> value_after_yield(int value) {
  co_await rt::yield_now();
  co_return value;
}

rt::Task<std::tuple<int, int>> join_one_pending(int* suspensions) {
  CountSuspensions counted{rt::join(ready_value(1), value_after_yield(2)), suspensions};
  co_return co_await counted;
}

// The count above means something: a join with a pending operand suspends once.
TEST_P(JoinSelectTest, JoinWithAPendingOperandSuspendsOnce) {
  int suspensions = 0;
  EXPECT_EQ(runtime_.block_on(join_one_pending(&suspensions)), std::make_tuple(1, 2));
  EXPECT_EQ(suspensions, 1);
}

// The first operand's value when it wins a select against an hour-long sleep.
rt::Task<int> select_against_an_hour(rt::Task<int> value, int* suspensions) {
  CountSuspensions counted{rt::select(std::move(value), rt::sleep(1h)), suspensions};
  auto first = co_await counted;
  co_return first.index() == 0 ? std::get<0>(first) : -1;
}

TEST_P(JoinSelectTest, SelectWithAnOperandReadyAtOnceContinuesWithoutSuspending) {
  int suspensions = 0;
  EXPECT_EQ(runtime_.block_on(select_against_an_hour(ready_value(3), &suspensions)), 3);
  EXPECT_EQ(suspensions, 0);
  // The count means something for select too: with no operand ready, it suspends once.
  EXPECT_EQ(runtime_.block_on(select_against_an_hour(value_after_yield(4), &suspensions)), 4);
  EXPECT_EQ(suspensions, 1);
}

rt::Task<int> join_all_ready_at_once(int* suspensions) {
  std::vector<rt::Task<int>> operands;
  for (int i = 1; i <= 3; ++i) operands.push_back(ready_value(i));
  CountSuspensions counted{rt::join_all(std::move(operands)), suspensions};
  const std::vector<int> values = co_await counted;
  co_return values.size() == 3 ? values[0] + values[1] + values[2] : -1;
}

TEST_P(JoinSelectTest, JoinAllOfOperandsReadyAtOnceContinuesWithoutSuspending) {
  int suspensions = 0;
  EXPECT_EQ(runtime_.block_on(join_all_ready_at_once(&suspensions)), 6);
  EXPECT_EQ(suspensions, 0);
}

// --- join_all ------------------------------------------------------------------------------------

rt::Task<int> square_after_yield(int i) {
  if (i % 3 == 0) co_await rt::yield_now();
  if (i % 3 == 1) co_await rt::sleep(std::chrono::milliseconds(i % 5));
  co_return i* i;
}

rt::Task<std::vector<int>> join_all_thousand() {
  std::vector<rt::Task<int>> tasks;
  for (int i = 0; i < 1000; ++i) tasks.push_back(square_after_yield(i));
  co_return co_await rt::join_all(std::move(tasks));
}

TEST_P(JoinSelectTest, JoinAllOfAThousandTasks) {
  std::vector<int> results = runtime_.block_on(join_all_thousand());
  ASSERT_EQ(results.size(), 1000u);
  for (int i = 0; i < 1000; ++i) EXPECT_EQ(results[i], i * i) << i;
}

rt::Task<int> count_up(int* counter) {
  co_await rt::sleep(1ms);
  ++*counter;
  co_return 0;
}

rt::Task<void> bump_after_sleep(int* counter, std::chrono::milliseconds delay) {
  co_await rt::sleep(delay);
  ++*counter;
}

rt::Task<int> join_all_void() {
  int counter = 0;
  std::vector<rt::Task<void>> tasks;
  for (int i = 0; i < 100; ++i)
    tasks.push_back(bump_after_sleep(&counter, std::chrono::milliseconds(i % 4)));
  static_assert(std::is_void_v<decltype(rt::join_all(std::move(tasks)).await_resume())>);
  co_await rt::join_all(std::move(tasks));
  co_return counter;
}

TEST_P(JoinSelectTest, JoinAllOfVoidTasksGivesVoid) {
  EXPECT_EQ(runtime_.block_on(join_all_void()), 100);
}

rt::Task<std::vector<int>> join_all_handles() {
  std::vector<rt::JoinHandle<int>> handles;
  for (int i = 0; i < 50; ++i)
    handles.push_back(rt::spawn(value_after(std::chrono::milliseconds(i % 3), i)));
  std::vector<std::expected<int, rt::JoinError>> outcomes =
      co_await rt::join_all(std::move(handles));
  std::vector<int> values;
  for (auto& outcome : outcomes) values.push_back(outcome.value());
  co_return values;
}

TEST_P(JoinSelectTest, JoinAllOfSpawnedTasksHandles) {
  std::vector<int> values = runtime_.block_on(join_all_handles());
  ASSERT_EQ(values.size(), 50u);
  for (int i = 0; i < 50; ++i) EXPECT_EQ(values[i], i);
}

rt::Task<std::size_t> join_all_empty() {
  co_return (co_await rt::join_all(std::vector<rt::Task<int>>{})).size();
}

TEST_P(JoinSelectTest, JoinAllOfNothingIsEmpty) {
  EXPECT_EQ(runtime_.block_on(join_all_empty()), 0u);
}

rt::Task<std::string> join_all_failure(int* finished) {
  std::vector<rt::Task<int>> tasks;
  tasks.push_back(count_up(finished));
  tasks.push_back(throw_after_yield("join_all"));
  tasks.push_back(count_up(finished));
  try {
    co_await rt::join_all(std::move(tasks));
  } catch (const std::runtime_error& e) {
    co_return e.what();
  }
  co_return "no exception";
}

TEST_P(JoinSelectTest, JoinAllRethrowsOnceAllFinished) {
  int finished = 0;
  EXPECT_EQ(runtime_.block_on(join_all_failure(&finished)), "join_all");
  EXPECT_EQ(finished, 2);
}

// --- select --------------------------------------------------------------------------------------

rt::Task<void> select_first(std::size_t* index, int* value, bool* loser_destroyed_at_resume) {
  bool loser_destroyed = false;
  auto winner = co_await rt::select(guarded_sleep(1h, &loser_destroyed, 1), value_after(1ms, 2));
  static_assert(std::is_same_v<decltype(winner), std::variant<int, int>>);
  *loser_destroyed_at_resume = loser_destroyed;  // cancelled before select() returned
  *index = winner.index();
  *value = winner.index() == 1 ? std::get<1>(winner) : -1;
}

TEST_P(JoinSelectTest, SelectGivesTheFirstToFinishAndCancelsTheRest) {
  std::size_t index = 99;
  int value = 0;
  bool loser_destroyed = false;
  runtime_.block_on(select_first(&index, &value, &loser_destroyed));
  EXPECT_EQ(index, 1u);
  EXPECT_EQ(value, 2);
  EXPECT_TRUE(loser_destroyed);
}

rt::Task<int> select_then_await_borrowed_handle(bool* handle_was_finished) {
  auto handle = rt::spawn(value_after(20ms, 5));
  // The handle is borrowed (an lvalue): losing cancels the wait, not the spawned task.
  auto first = co_await rt::select(handle, rt::sleep(1ms));
  EXPECT_EQ(first.index(), 1u);
  *handle_was_finished = handle.is_finished();
  auto later = co_await handle;
  co_return later.value();
}

TEST_P(JoinSelectTest, ALosingWaitOnASpawnedTaskLeavesTheTaskRunning) {
  bool handle_was_finished = true;
  EXPECT_EQ(runtime_.block_on(select_then_await_borrowed_handle(&handle_was_finished)), 5);
  EXPECT_FALSE(handle_was_finished);
}

rt::Task<void> set_after(std::chrono::milliseconds delay, std::atomic<bool>* done) {
  co_await rt::sleep(delay);
  done->store(true);
}

rt::Task<bool> select_drops_moved_handle() {
  std::atomic<bool> done{false};
  auto handle = rt::spawn(set_after(10ms, &done));
  // Moved in: the losing branch drops the handle, which detaches the task; it still finishes.
  auto first = co_await rt::select(std::move(handle), rt::sleep(1ms));
  EXPECT_EQ(first.index(), 1u);
  while (!done.load()) co_await rt::sleep(1ms);
  co_return true;
}

TEST_P(JoinSelectTest, ALosingJoinHandleOperandDetachesItsTask) {
  EXPECT_TRUE(runtime_.block_on(select_drops_moved_handle()));
}

rt::Task<void> select_immediate(std::size_t* index, bool* later_started, bool* earlier_destroyed) {
  auto winner = co_await rt::select(guarded_sleep(1h, earlier_destroyed, 0), ready_value(7),
                                    mark_started(later_started, 9));
  *index = winner.index();
  EXPECT_EQ(std::get<1>(winner), 7);
}

TEST_P(JoinSelectTest, AnOperandReadyAtOnceWinsBeforeLaterOnesStart) {
  std::size_t index = 99;
  bool later_started = false;
  bool earlier_destroyed = false;
  runtime_.block_on(select_immediate(&index, &later_started, &earlier_destroyed));
  EXPECT_EQ(index, 1u);
  EXPECT_FALSE(later_started);
  EXPECT_TRUE(earlier_destroyed);
}

rt::Task<std::size_t> select_void_and_values() {
  auto winner = co_await rt::select(rt::sleep(1h), nothing(), ready_value(3));
  static_assert(
      std::is_same_v<decltype(winner), std::variant<std::monostate, std::monostate, int>>);
  co_return winner.index();
}

TEST_P(JoinSelectTest, SelectOfVoidOperandsGivesMonostate) {
  EXPECT_EQ(runtime_.block_on(select_void_and_values()), 1u);
}

rt::Task<std::string> select_winner_throws(bool* loser_destroyed) {
  try {
    co_await rt::select(guarded_sleep(1h, loser_destroyed, 0), throw_after(1ms, "winner threw"));
  } catch (const std::runtime_error& e) {
    co_return e.what();
  }
  co_return "no exception";
}

TEST_P(JoinSelectTest, SelectRethrowsTheWinnersException) {
  bool loser_destroyed = false;
  EXPECT_EQ(runtime_.block_on(select_winner_throws(&loser_destroyed)), "winner threw");
  EXPECT_TRUE(loser_destroyed);
}

rt::Task<int> select_in_a_loop() {
  // Tokio's usual shape: race a recurring wait against a deadline fixed once.
  const rt::Clock::time_point deadline = rt::Clock::now() + 30ms;
  int ticks = 0;
  for (;;) {
    auto next = co_await rt::select(rt::sleep(1ms), rt::sleep_until(deadline));
    if (next.index() == 1) break;
    ++ticks;
  }
  EXPECT_GE(rt::Clock::now(), deadline);
  co_return ticks;
}

TEST_P(JoinSelectTest, SelectInALoopAgainstAFixedDeadline) {
  EXPECT_GE(runtime_.block_on(select_in_a_loop()), 1);
}

// Borrowing: an lvalue that makes its awaiter through operator co_await is fine; an lvalue that is
// itself an awaiter is refused (it would stay registered after its branch was cancelled).
static_assert(brigade::runtime::detail::Operand<rt::JoinHandle<int>&>);
static_assert(brigade::runtime::detail::Operand<rt::Sleep>);
static_assert(!brigade::runtime::detail::Operand<rt::Sleep&>);
static_assert(!brigade::runtime::detail::Operand<rt::Task<int>&>);  // a Task must be moved in

rt::Task<std::size_t> nested_combinators(bool* inner_loser_destroyed) {
  auto outer = co_await rt::select(
      rt::join(value_after(1ms, 1),
               rt::select(guarded_sleep(1h, inner_loser_destroyed, 0), value_after(2ms, 2))),
      value_after(1h, 3));
  EXPECT_EQ(outer.index(), 0u);
  auto [a, inner] = std::get<0>(std::move(outer));
  EXPECT_EQ(a, 1);
  EXPECT_EQ(inner.index(), 1u);
  co_return outer.index();
}

TEST_P(JoinSelectTest, CombinatorsNest) {
  bool inner_loser_destroyed = false;
  EXPECT_EQ(runtime_.block_on(nested_combinators(&inner_loser_destroyed)), 0u);
  EXPECT_TRUE(inner_loser_destroyed);
}

// --- many combinators in a loop
// -------------------------------------------------------------------

rt::Task<long> decided_while_starting(int iterations) {
  long sum = 0;
  for (int i = 0; i < iterations; ++i) {
    auto [a, b] = co_await rt::join(ready_value(1), ready_value(2));
    auto first = co_await rt::select(ready_value(3), rt::sleep(1h));
    sum += a + b + std::get<0>(first);
  }
  co_return sum;
}

TEST_P(JoinSelectTest, ALoopOfCombinatorsDecidedWhileStartingDoesNotGrowTheStack) {
  // Each combinator finishes inside its own await_suspend; the parent must continue without a
  // nested resume(), or these iterations would overflow the stack (GCC makes no tail call of a
  // returned coroutine handle at -O0 or under the sanitizers).
  constexpr int kIterations = 200'000;
  EXPECT_EQ(runtime_.block_on(decided_while_starting(kIterations)), 6L * kIterations);
}

// --- cancellation of the whole task --------------------------------------------------------------

struct CountOnDestroy {
  std::atomic<int>* count;
  ~CountOnDestroy() { count->fetch_add(1); }
};

rt::Task<void> guarded_forever(std::atomic<int>* destroyed) {
  CountOnDestroy guard{destroyed};
  co_await rt::sleep(1h);
}

rt::Task<void> pending_combinators(std::atomic<int>* destroyed) {
  co_await rt::join(guarded_forever(destroyed),
                    rt::select(guarded_forever(destroyed), guarded_forever(destroyed)));
}

rt::Task<bool> abort_while_pending(std::atomic<int>* destroyed) {
  auto handle = rt::spawn(pending_combinators(destroyed));
  // Until every branch waits in its sleep: three timers armed.
  while (rt::detail::current_runtime()->driver().timers() < 3) co_await rt::yield_now();
  handle.abort();
  auto outcome = co_await handle;
  co_return !outcome.has_value() && outcome.error().is_cancelled();
}

TEST_P(JoinSelectTest, AbortingTheTaskCancelsEveryBranch) {
  std::atomic<int> destroyed{0};
  EXPECT_TRUE(runtime_.block_on(abort_while_pending(&destroyed)));
  EXPECT_EQ(destroyed.load(), 3);
}

INSTANTIATE_TEST_SUITE_P(Flavors, JoinSelectTest,
                         ::testing::Values(Flavor::multi_thread, Flavor::current_thread),
                         flavor_name);

}  // namespace
