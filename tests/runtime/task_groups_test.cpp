// Groups of tasks as Tokio users write them: JoinSet (outcomes in completion order, abort_all,
// abort on destruction), AbortHandle, CancellationToken (children, cancelled() in a select) and
// TaskTracker (close, wait). Completion order is forced by channels, never by timing.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <memory>
#include <stdexcept>
#include <utility>
#include <vector>

#include "brigade/runtime/abort_handle.hpp"
#include "brigade/runtime/join_set.hpp"
#include "brigade/runtime/runtime.hpp"
#include "brigade/runtime/select.hpp"
#include "brigade/runtime/spawn.hpp"
#include "brigade/runtime/sync/cancellation_token.hpp"
#include "brigade/runtime/sync/mpsc.hpp"
#include "brigade/runtime/sync/oneshot.hpp"
#include "brigade/runtime/task_tracker.hpp"
#include "brigade/runtime/time.hpp"
#include "brigade/runtime/timeout.hpp"

namespace rt = brigade::runtime;
using namespace std::chrono_literals;

namespace {

constexpr auto kHang = 20s;  // only reached when something that should wake does not

rt::Runtime two_workers() { return rt::Builder::multi_thread().worker_threads(2).build(); }

// Finishes with `value` once `go` fires.
rt::Task<int> when_told(rt::oneshot::Receiver<int> go, int value) {
  static_cast<void>(co_await go);
  co_return value;
}

rt::Task<int> forever() {
  for (;;) co_await rt::sleep(1h);
}

// ---- JoinSet ------------------------------------------------------------------------------------

rt::Task<std::vector<int>> join_set_in_completion_order() {
  rt::JoinSet<int> set;
  std::vector<rt::oneshot::Sender<int>> go;
  for (int i = 0; i < 3; ++i) {
    auto [tx, rx] = rt::oneshot::channel<int>();
    go.push_back(std::move(tx));
    set.spawn(when_told(std::move(rx), i));
  }
  std::vector<int> order;
  for (const int i : {2, 0, 1}) {  // release them in this order, one at a time
    static_cast<void>(go[static_cast<std::size_t>(i)].send(0));
    auto next = co_await rt::timeout(kHang, set.join_next());
    if (!next || !*next || !**next) throw std::runtime_error("join_next failed");
    order.push_back(***next);
  }
  if (!set.is_empty()) throw std::logic_error("the set should be empty");
  if (co_await set.join_next()) throw std::logic_error("an empty set gives nullopt");
  co_return order;
}

TEST(JoinSet, JoinNextGivesOutcomesInCompletionOrder) {
  auto runtime = two_workers();
  EXPECT_EQ(runtime.block_on(join_set_in_completion_order()), (std::vector<int>{2, 0, 1}));
}

struct AbortAllOutcome {
  std::size_t cancelled = 0;
  std::size_t joined = 0;
};

rt::Task<AbortAllOutcome> join_set_abort_all() {
  rt::JoinSet<int> set;
  for (int i = 0; i < 5; ++i) set.spawn(forever());
  set.abort_all();
  AbortAllOutcome out;
  while (auto next = co_await rt::timeout(kHang, set.join_next())) {
    if (!*next) break;
    ++out.joined;
    if (!**next && (**next).error().is_cancelled()) ++out.cancelled;
  }
  co_return out;
}

TEST(JoinSet, AbortAllCancelsEveryTaskAndJoinNextReportsThem) {
  auto runtime = two_workers();
  const auto out = runtime.block_on(join_set_abort_all());
  EXPECT_EQ(out.joined, 5u);
  EXPECT_EQ(out.cancelled, 5u);
}

// Holds a sender until its frame is destroyed.
rt::Task<int> forever_holding(rt::mpsc::Sender<int>) {
  for (;;) co_await rt::sleep(1h);
}

rt::Task<bool> join_set_dropped() {
  auto [tx, rx] = rt::mpsc::channel<int>(1);
  {
    rt::JoinSet<int> set;
    for (int i = 0; i < 4; ++i) set.spawn(forever_holding(tx));
    auto sender = std::move(tx);
  }
  // recv() gives nullopt once every sender is gone: once every task's frame was destroyed.
  auto last = co_await rt::timeout(kHang, rx.recv());
  co_return last && !*last;
}

TEST(JoinSet, DestroyingTheSetAbortsWhatIsLeft) {
  auto runtime = two_workers();
  EXPECT_TRUE(runtime.block_on(join_set_dropped()));
}

// ---- AbortHandle --------------------------------------------------------------------------------

rt::Task<bool> abort_through_abort_handle() {
  auto handle = rt::spawn(forever());
  rt::AbortHandle abort = handle.abort_handle();
  rt::AbortHandle copy = abort;
  copy.abort();
  auto outcome = co_await rt::timeout(kHang, std::move(handle));
  co_return outcome && !*outcome && outcome->error().is_cancelled() && abort.is_finished();
}

TEST(AbortHandle, AbortsTheTaskWhileTheJoinHandleGetsTheOutcome) {
  auto runtime = two_workers();
  EXPECT_TRUE(runtime.block_on(abort_through_abort_handle()));
}

// ---- CancellationToken --------------------------------------------------------------------------

rt::Task<bool> stops_on_cancel(rt::CancellationToken token) {
  auto next = co_await rt::select(forever(), token.cancelled());
  co_return next.index() == 1;
}

struct TokenOutcome {
  bool child_stopped = false;
  bool grandchild_cancelled = false;
  bool parent_cancelled_by_child = true;
  bool late_child_cancelled = false;
};

rt::Task<TokenOutcome> cancel_a_tree() {
  TokenOutcome out;
  rt::CancellationToken root;
  rt::CancellationToken child = root.child_token();
  rt::CancellationToken grandchild = child.child_token();

  rt::CancellationToken sibling = root.child_token();
  sibling.cancel();
  out.parent_cancelled_by_child = root.is_cancelled();

  std::vector<rt::JoinHandle<bool>> waiters;
  for (int i = 0; i < 3; ++i) waiters.push_back(rt::spawn(stops_on_cancel(grandchild)));
  auto child_waiter = rt::spawn(stops_on_cancel(child));
  root.cancel();
  out.child_stopped = true;
  for (auto& waiter : waiters) {
    auto stopped = co_await rt::timeout(kHang, std::move(waiter));
    out.child_stopped = out.child_stopped && stopped && *stopped && **stopped;
  }
  auto stopped = co_await rt::timeout(kHang, std::move(child_waiter));
  out.child_stopped = out.child_stopped && stopped && *stopped && **stopped;
  out.grandchild_cancelled = grandchild.is_cancelled();
  out.late_child_cancelled = root.child_token().is_cancelled();
  co_await grandchild.cancelled();  // already cancelled: completes at once
  co_return out;
}

TEST(CancellationToken, CancelWakesEveryWaiterOfItsChildrenAndNotItsParent) {
  auto runtime = two_workers();
  const auto out = runtime.block_on(cancel_a_tree());
  EXPECT_TRUE(out.child_stopped);
  EXPECT_TRUE(out.grandchild_cancelled);
  EXPECT_FALSE(out.parent_cancelled_by_child);
  EXPECT_TRUE(out.late_child_cancelled);
}

rt::Task<bool> lost_select_leaves_token_usable() {
  rt::CancellationToken token;
  for (int i = 0; i < 100; ++i) {
    auto next = co_await rt::select(rt::sleep(0ms), token.cancelled());
    if (next.index() != 0) co_return false;
  }
  auto waiter = rt::spawn(stops_on_cancel(token));
  token.cancel();
  auto stopped = co_await rt::timeout(kHang, std::move(waiter));
  co_return stopped&&* stopped&&** stopped;
}

TEST(CancellationToken, CancelledLosingASelectLeavesNothingBehind) {
  auto runtime = two_workers();
  EXPECT_TRUE(runtime.block_on(lost_select_leaves_token_usable()));
}

// ---- TaskTracker --------------------------------------------------------------------------------

struct TrackerOutcome {
  std::size_t len_while_running = 0;
  bool wait_done_before_close = false;
  std::size_t len_after_wait = 99;
  int finished = 0;
};

// The tasks may finish on both workers at once: the count is atomic.
rt::Task<void> finish_when_told(rt::oneshot::Receiver<int> go,
                                std::shared_ptr<std::atomic<int>> finished) {
  static_cast<void>(co_await go);
  finished->fetch_add(1);
}

rt::Task<TrackerOutcome> tracker_waits_for_closed_and_empty() {
  TrackerOutcome out;
  rt::TaskTracker tracker;
  auto finished = std::make_shared<std::atomic<int>>(0);
  std::vector<rt::oneshot::Sender<int>> go;
  for (int i = 0; i < 3; ++i) {
    auto [tx, rx] = rt::oneshot::channel<int>();
    go.push_back(std::move(tx));
    static_cast<void>(tracker.spawn(finish_when_told(std::move(rx), finished)));
  }
  auto aborted = tracker.spawn(forever());
  out.len_while_running = tracker.len();
  aborted.abort();
  for (auto& tx : go) static_cast<void>(tx.send(0));
  // Not closed: wait() must not complete even once the tasks are done (they are, once none is
  // tracked any more; a select is biased to its first operand).
  while (tracker.len() != 0) co_await rt::yield_now();
  auto early = co_await rt::select(tracker.wait(), rt::sleep(0ms));
  out.wait_done_before_close = early.index() == 0;
  tracker.close();
  if (!co_await rt::timeout(kHang, tracker.wait())) throw std::runtime_error("wait hung");
  out.len_after_wait = tracker.len();
  out.finished = finished->load();
  co_return out;
}

TEST(TaskTracker, WaitCompletesOnceClosedAndEveryTrackedTaskEnded) {
  auto runtime = two_workers();
  const auto out = runtime.block_on(tracker_waits_for_closed_and_empty());
  EXPECT_EQ(out.len_while_running, 4u);
  EXPECT_FALSE(out.wait_done_before_close);
  EXPECT_EQ(out.len_after_wait, 0u);
  EXPECT_EQ(out.finished, 3);
}

}  // namespace
