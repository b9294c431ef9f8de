// watch: versions seen per receiver, borrow and has_changed, send variants, changed() waking and
// failing, receivers always ending on the latest value, wait_for, and cancellation of changed().
#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "brigade/runtime/coop.hpp"
#include "brigade/runtime/runtime.hpp"
#include "brigade/runtime/select.hpp"
#include "brigade/runtime/sync/watch.hpp"
#include "brigade/runtime/time.hpp"

namespace rt = brigade::runtime;
namespace watch = brigade::runtime::watch;

namespace {

rt::Runtime make_runtime() { return rt::Builder::multi_thread().worker_threads(2).build(); }

// Yields to the other tasks until `pred` holds (a scheduling wait, not a timed one).
template <class Pred>
rt::Task<void> wait_until(Pred pred) {
  while (!pred()) co_await rt::yield_now();
}

rt::Task<void> yield_many(int times) {
  for (int i = 0; i < times; ++i) co_await rt::yield_now();
}

// --- Without a runtime ------------------------------------------------------------------------

TEST(WatchBasics, BorrowSeesTheLatestValueAndHasChangedTracksVersions) {
  auto [tx, rx] = watch::channel<std::string>("initial");
  EXPECT_EQ(*rx.borrow(), "initial");
  EXPECT_FALSE(rx.borrow().has_changed());
  EXPECT_EQ(rx.has_changed(), false);

  EXPECT_TRUE(tx.send("second").has_value());
  EXPECT_EQ(rx.has_changed(), true);
  {
    auto ref = rx.borrow();  // does not mark it seen
    EXPECT_EQ(*ref, "second");
    EXPECT_TRUE(ref.has_changed());
  }
  EXPECT_EQ(rx.has_changed(), true);
  {
    auto ref = rx.borrow_and_update();
    EXPECT_EQ(ref->size(), 6U);
    EXPECT_TRUE(ref.has_changed());
  }
  EXPECT_EQ(rx.has_changed(), false);
  EXPECT_EQ(*tx.borrow(), "second");
}

TEST(WatchBasics, ReceiverCopiesTrackTheirOwnVersion) {
  auto [tx, rx] = watch::channel(0);
  watch::Receiver<int> copy = rx;
  EXPECT_EQ(tx.receiver_count(), 2U);
  EXPECT_TRUE(tx.send(1).has_value());
  EXPECT_EQ(rx.borrow_and_update().get(), 1);
  EXPECT_EQ(rx.has_changed(), false);
  EXPECT_EQ(copy.has_changed(), true);
  watch::Receiver<int> copy_of_copy = copy;  // starts from copy's version: unseen change
  EXPECT_EQ(copy_of_copy.has_changed(), true);
  copy.mark_unchanged();
  EXPECT_EQ(copy.has_changed(), false);
  EXPECT_EQ(copy_of_copy.has_changed(), true);
  auto subscribed = tx.subscribe();  // starts with the current value seen
  EXPECT_EQ(subscribed.has_changed(), false);
  EXPECT_EQ(tx.receiver_count(), 4U);
}

TEST(WatchBasics, SendWithoutReceiversIsRefusedButSendReplaceStores) {
  auto [tx, rx] = watch::channel(1);
  { watch::Receiver<int> gone = std::move(rx); }
  EXPECT_TRUE(tx.is_closed());
  auto refused = tx.send(2);
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().value, 2);
  EXPECT_EQ(*tx.borrow(), 1);  // not stored
  EXPECT_EQ(tx.send_replace(3), 1);
  auto late = tx.subscribe();
  EXPECT_FALSE(tx.is_closed());
  EXPECT_EQ(*late.borrow(), 3);
  EXPECT_EQ(late.has_changed(), false);
}

TEST(WatchBasics, SendModifyAnnouncesAndSendIfModifiedOnlyWhenToldSo) {
  auto [tx, rx] = watch::channel(std::vector<int>{1});
  tx.send_modify([](std::vector<int>& v) { v.push_back(2); });
  EXPECT_EQ(rx.has_changed(), true);
  EXPECT_EQ(*rx.borrow_and_update(), (std::vector<int>{1, 2}));

  EXPECT_FALSE(tx.send_if_modified([](std::vector<int>&) { return false; }));
  EXPECT_EQ(rx.has_changed(), false);
  EXPECT_TRUE(tx.send_if_modified([](std::vector<int>& v) {
    v.clear();
    return true;
  }));
  EXPECT_EQ(rx.has_changed(), true);
  EXPECT_TRUE(rx.borrow()->empty());
}

TEST(WatchBasics, HasChangedFailsOnceTheSenderIsGone) {
  auto [tx, rx] = watch::channel(1);
  EXPECT_TRUE(tx.send(2).has_value());
  { watch::Sender<int> gone = std::move(tx); }
  EXPECT_EQ(rx.has_changed(), std::unexpected(watch::RecvError{}));
  EXPECT_EQ(*rx.borrow(), 2);  // the last value stays readable
}

// --- On the runtime ---------------------------------------------------------------------------

rt::Task<void> changed_is_ready_when_already_newer() {
  auto [tx, rx] = watch::channel(0);
  EXPECT_TRUE(tx.send(5).has_value());
  EXPECT_TRUE((co_await rx.changed()).has_value());  // at once: version 1 > seen 0
  EXPECT_EQ(rx.has_changed(), false);                // changed() marked it seen
  EXPECT_EQ(*rx.borrow(), 5);
}

TEST(WatchRuntime, ChangedCompletesAtOnceWhenThereIsAlreadyANewerValue) {
  auto runtime = make_runtime();
  runtime.block_on(changed_is_ready_when_already_newer());
}

rt::Task<int> await_change(watch::Receiver<int> rx, std::shared_ptr<std::atomic<bool>> started) {
  started->store(true);
  auto changed = co_await rx.changed();
  if (!changed) co_return -1;
  co_return *rx.borrow();
}

rt::Task<void> changed_waits_for_a_send() {
  auto [tx, rx] = watch::channel(0);
  auto started = std::make_shared<std::atomic<bool>>(false);
  auto waiter = rt::spawn(await_change(rx, started));
  co_await wait_until([&started] { return started->load(); });
  co_await yield_many(50);
  EXPECT_FALSE(waiter.is_finished());  // nothing was sent yet
  EXPECT_TRUE(tx.send(42).has_value());
  auto joined = co_await waiter;
  EXPECT_EQ(joined.value_or(-2), 42);
}

TEST(WatchRuntime, ChangedWaitsForTheNextSend) {
  auto runtime = make_runtime();
  runtime.block_on(changed_waits_for_a_send());
}

rt::Task<void> last_value_then_error() {
  auto [tx, rx] = watch::channel(0);
  EXPECT_TRUE(tx.send(1).has_value());
  { watch::Sender<int> gone = std::move(tx); }
  // The value sent before the sender left is still announced, then changed() fails.
  EXPECT_TRUE((co_await rx.changed()).has_value());
  EXPECT_EQ(*rx.borrow(), 1);
  EXPECT_EQ(co_await rx.changed(), std::unexpected(watch::RecvError{}));
}

TEST(WatchRuntime, ChangedDeliversTheLastValueThenFailsWhenTheSenderIsGone) {
  auto runtime = make_runtime();
  runtime.block_on(last_value_then_error());
}

rt::Task<void> drop_sender_later(watch::Sender<int> tx) {
  co_await yield_many(50);
  watch::Sender<int> gone = std::move(tx);  // leaves with this scope, while the waiter waits
}

rt::Task<void> waiter_woken_by_sender_drop() {
  auto [tx, rx] = watch::channel(0);
  auto started = std::make_shared<std::atomic<bool>>(false);
  auto waiter = rt::spawn(await_change(rx, started));
  auto dropper = rt::spawn(drop_sender_later(std::move(tx)));
  auto joined = co_await waiter;
  EXPECT_EQ(joined.value_or(-2), -1);  // changed() failed
  EXPECT_TRUE((co_await dropper).has_value());
}

TEST(WatchRuntime, AWaitingReceiverIsWokenWithAnErrorWhenTheSenderLeaves) {
  auto runtime = make_runtime();
  runtime.block_on(waiter_woken_by_sender_drop());
}

struct Observed {
  int last = -1;
  int changes = 0;
  int regressions = 0;
};

rt::Task<Observed> observe(watch::Receiver<int> rx) {
  Observed seen;
  while (co_await rx.changed()) {
    const int value = *rx.borrow_and_update();
    if (value <= seen.last) ++seen.regressions;
    seen.last = value;
    ++seen.changes;
  }
  co_return seen;
}

rt::Task<void> count_up(watch::Sender<int> tx, int to) {
  for (int i = 1; i <= to; ++i) {
    tx.send_replace(i);
    if (i % 16 == 0) co_await rt::yield_now();
  }
}

rt::Task<void> receivers_end_on_the_latest_value() {
  constexpr int kReceivers = 4;
  constexpr int kLast = 5000;
  auto [tx, rx] = watch::channel(0);
  std::vector<rt::JoinHandle<Observed>> observers;
  for (int i = 0; i < kReceivers; ++i) observers.push_back(rt::spawn(observe(rx)));
  auto sender = rt::spawn(count_up(std::move(tx), kLast));
  EXPECT_TRUE((co_await sender).has_value());
  for (auto& observer : observers) {
    auto seen = co_await observer;
    EXPECT_TRUE(seen.has_value());
    if (!seen) continue;
    EXPECT_EQ(seen->last, kLast);  // intermediate values may be skipped, the latest never
    EXPECT_EQ(seen->regressions, 0);
    EXPECT_GE(seen->changes, 1);
    EXPECT_LE(seen->changes, kLast);
  }
}

TEST(WatchRuntime, ReceiversAcrossWorkersAlwaysEndOnTheLatestValue) {
  auto runtime = make_runtime();
  runtime.block_on(receivers_end_on_the_latest_value());
}

rt::Task<void> send_each(watch::Sender<int>* tx, std::vector<int> values) {
  for (int value : values) {
    co_await rt::yield_now();
    tx->send_replace(value);
  }
}

rt::Task<void> wait_for_a_value() {
  auto [tx, rx] = watch::channel(0);
  auto sender = rt::spawn(send_each(&tx, {1, 2, 3}));
  {
    auto found = co_await rx.wait_for([](int v) { return v >= 3; });
    EXPECT_EQ(found.has_value() ? **found : -1, 3);
    // The Ref's read lock is released at the end of this scope.
  }
  EXPECT_EQ(rx.has_changed(), false);  // marked seen
  EXPECT_TRUE((co_await sender).has_value());

  // Already satisfied: at once, even with the sender gone.
  { watch::Sender<int> gone = std::move(tx); }
  EXPECT_TRUE((co_await rx.wait_for([](int v) { return v == 3; })).has_value());
  // Never satisfied, and no sender left.
  EXPECT_FALSE((co_await rx.wait_for([](int v) { return v == 4; })).has_value());
}

TEST(WatchRuntime, WaitForReturnsTheFirstValueThatSatisfiesThePredicate) {
  auto runtime = make_runtime();
  runtime.block_on(wait_for_a_value());
}

enum class State { serving, draining, stopped };

rt::Task<State> connection(watch::Receiver<State> shutdown) {
  auto state = co_await shutdown.wait_for([](State s) { return s != State::serving; });
  co_return state ? **state : State::serving;
}

rt::Task<void> shutdown_broadcast() {
  auto [tx, rx] = watch::channel(State::serving);
  std::vector<rt::JoinHandle<State>> connections;
  for (int i = 0; i < 16; ++i) connections.push_back(rt::spawn(connection(rx)));
  co_await yield_many(20);
  EXPECT_TRUE(tx.send(State::draining).has_value());
  for (auto& c : connections) {
    auto state = co_await c;
    EXPECT_TRUE(state.has_value() && *state == State::draining);
  }
}

TEST(WatchRuntime, EveryWaitingTaskSeesTheShutdownState) {
  auto runtime = make_runtime();
  runtime.block_on(shutdown_broadcast());
}

// --- Cooperative budget ----------------------------------------------------------------------

std::uint64_t forced_yields() { return rt::Handle::current().metrics().budget_forced_yields; }

rt::Task<void> ready_changes_use_the_budget() {
  auto [tx, rx] = watch::channel(0);
  const std::uint64_t before = forced_yields();
  int wrong = 0;
  for (int i = 1; i <= 1000; ++i) {
    tx.send_replace(i);
    if (!(co_await rx.changed()) || *rx.borrow() != i) ++wrong;
  }
  EXPECT_EQ(wrong, 0);
  EXPECT_GE(forced_yields() - before, 5U);
}

TEST(WatchBudget, ReadyChangesYieldOnceTheBudgetIsSpent) {
  auto runtime = make_runtime();
  runtime.block_on(ready_changes_use_the_budget());
}

rt::Task<int> immediately(int value) { co_return value; }

rt::Task<void> cancel_while_yielding_for_budget() {
  auto [tx, rx] = watch::channel(0);
  EXPECT_TRUE(tx.send(1).has_value());
  rt::detail::coop::budget = 0;  // changed() is ready but must yield first
  auto lost = co_await rt::select(rx.changed(), immediately(7));
  EXPECT_EQ(lost.index(), 1U);
  EXPECT_EQ(rx.has_changed(), true);  // still unseen
  rt::detail::coop::budget = 0;
  EXPECT_TRUE((co_await rx.changed()).has_value());  // completes after its turn
  EXPECT_EQ(rx.has_changed(), false);
}

TEST(WatchBudget, AChangedYieldingForBudgetCanBeCancelledWithoutLoss) {
  auto runtime = make_runtime();
  runtime.block_on(cancel_while_yielding_for_budget());
}

// --- Cancellation -----------------------------------------------------------------------------

rt::Task<void> abort_a_changed_waiter() {
  auto [tx, rx] = watch::channel(0);
  auto started = std::make_shared<std::atomic<bool>>(false);
  auto doomed_started = std::make_shared<std::atomic<bool>>(false);
  auto survivor = rt::spawn(await_change(rx, started));
  auto doomed = rt::spawn(await_change(rx, doomed_started));
  co_await wait_until([&] { return started->load() && doomed_started->load(); });
  co_await yield_many(20);
  doomed.abort();
  auto aborted = co_await doomed;
  EXPECT_TRUE(!aborted.has_value() && aborted.error().is_cancelled());
  EXPECT_EQ(tx.receiver_count(), 2U);  // main's and the survivor's

  EXPECT_TRUE(tx.send(7).has_value());
  EXPECT_EQ((co_await survivor).value_or(-2), 7);
  EXPECT_TRUE((co_await rx.changed()).has_value());  // nothing consumed by the aborted waiter
  EXPECT_EQ(*rx.borrow(), 7);
}

TEST(WatchCancel, AbortingAWaiterLeavesTheOthersAndTheChangeIntact) {
  auto runtime = make_runtime();
  runtime.block_on(abort_a_changed_waiter());
}

rt::Task<int> send_now(watch::Sender<int>* tx, int value) {
  EXPECT_TRUE(tx->send(value).has_value());
  co_return value;
}

rt::Task<void> changed_loses_a_select() {
  auto [tx, rx] = watch::channel(0);
  // changed() waits; the send wakes it, but the sending branch wins first and changed() is
  // dropped. The change must not be consumed.
  auto outcome = co_await rt::select(rx.changed(), send_now(&tx, 9));
  EXPECT_EQ(outcome.index(), 1U);
  EXPECT_EQ(rx.has_changed(), true);
  EXPECT_TRUE((co_await rx.changed()).has_value());
  EXPECT_EQ(*rx.borrow(), 9);
}

TEST(WatchCancel, AChangedThatLosesASelectConsumesNothing) {
  auto runtime = make_runtime();
  runtime.block_on(changed_loses_a_select());
}

}  // namespace
