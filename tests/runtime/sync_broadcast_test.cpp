// broadcast: every receiver sees every message, subscribe starts at the next one, send without
// receivers, exact lag counts, closing, freeing values once all have read them, many senders and
// receivers across workers, and cancellation of a waiting recv().
#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "brigade/runtime/coop.hpp"
#include "brigade/runtime/runtime.hpp"
#include "brigade/runtime/select.hpp"
#include "brigade/runtime/sync/broadcast.hpp"
#include "brigade/runtime/time.hpp"

namespace rt = brigade::runtime;
namespace broadcast = brigade::runtime::broadcast;

namespace {

rt::Runtime make_runtime() { return rt::Builder::multi_thread().worker_threads(2).build(); }

template <class Pred>
rt::Task<void> wait_until(Pred pred) {
  while (!pred()) co_await rt::yield_now();
}

rt::Task<void> yield_many(int times) {
  for (int i = 0; i < times; ++i) co_await rt::yield_now();
}

template <class T>
std::vector<T> drain(broadcast::Receiver<T>& rx) {
  std::vector<T> values;
  while (auto value = rx.try_recv()) values.push_back(std::move(*value));
  return values;
}

// Counts live instances, to see when the channel lets go of a message.
struct Tracked {
  explicit Tracked(std::shared_ptr<std::atomic<int>> live) : live_(std::move(live)) { ++*live_; }
  Tracked(const Tracked& other) : live_(other.live_) { ++*live_; }
  Tracked& operator=(const Tracked&) = delete;
  ~Tracked() { --*live_; }
  std::shared_ptr<std::atomic<int>> live_;
};

// --- Without a runtime ------------------------------------------------------------------------

TEST(BroadcastBasics, EveryReceiverSeesEveryMessage) {
  auto [tx, rx] = broadcast::channel<std::string>(8);
  auto rx2 = tx.subscribe();
  EXPECT_EQ(tx.receiver_count(), 2U);
  for (const char* s : {"a", "b", "c"}) EXPECT_EQ(tx.send(s).value_or(0), 2U);
  const std::vector<std::string> all{"a", "b", "c"};
  EXPECT_EQ(drain(rx), all);
  EXPECT_EQ(drain(rx2), all);
  EXPECT_EQ(rx.try_recv().error(), broadcast::TryRecvError::empty());
}

TEST(BroadcastBasics, SubscribeStartsAtTheNextMessage) {
  auto [tx, rx] = broadcast::channel<int>(8);
  EXPECT_TRUE(tx.send(1).has_value());
  auto late = tx.subscribe();
  EXPECT_TRUE(tx.send(2).has_value());
  auto later = rx.resubscribe();  // from the tail too, not from where rx is
  EXPECT_TRUE(tx.send(3).has_value());
  EXPECT_EQ(drain(rx), (std::vector<int>{1, 2, 3}));
  EXPECT_EQ(drain(late), (std::vector<int>{2, 3}));
  EXPECT_EQ(drain(later), (std::vector<int>{3}));
}

TEST(BroadcastBasics, SendWithoutReceiversGivesTheValueBack) {
  auto [tx, rx] = broadcast::channel<std::string>(4);
  { broadcast::Receiver<std::string> gone = std::move(rx); }
  EXPECT_EQ(tx.receiver_count(), 0U);
  auto refused = tx.send("lost?");
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().value, "lost?");
  auto late = tx.subscribe();
  EXPECT_EQ(late.try_recv().error(), broadcast::TryRecvError::empty());  // nothing was stored
}

TEST(BroadcastBasics, ALaggingReceiverLearnsExactlyHowManyItMissed) {
  auto [tx, rx] = broadcast::channel<int>(4);
  auto up_to_date = tx.subscribe();
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(tx.send(i).has_value());
  EXPECT_EQ(drain(up_to_date), (std::vector<int>{0, 1, 2}));
  for (int i = 3; i < 10; ++i) EXPECT_TRUE(tx.send(i).has_value());
  // The ring holds 6..9. rx is at 0, so it lost 0..5; up_to_date is at 3, so it lost 3..5.
  auto lag = rx.try_recv();
  ASSERT_FALSE(lag.has_value());
  EXPECT_EQ(lag.error(), broadcast::TryRecvError::lagged(6));
  EXPECT_EQ(drain(rx), (std::vector<int>{6, 7, 8, 9}));
  EXPECT_EQ(up_to_date.try_recv().error(), broadcast::TryRecvError::lagged(3));
  EXPECT_EQ(drain(up_to_date), (std::vector<int>{6, 7, 8, 9}));
  EXPECT_EQ(rx.try_recv().error(), broadcast::TryRecvError::empty());
}

TEST(BroadcastBasics, ReceiversDrainThenSeeClosedOnceEverySenderIsGone) {
  auto [tx, rx] = broadcast::channel<int>(4);
  {
    broadcast::Sender<int> copy = tx;
    EXPECT_TRUE(copy.send(1).has_value());
  }
  EXPECT_EQ(rx.try_recv().value_or(-1), 1);
  EXPECT_EQ(rx.try_recv().error(), broadcast::TryRecvError::empty());  // tx is alive
  EXPECT_TRUE(tx.send(2).has_value());
  { broadcast::Sender<int> last = std::move(tx); }
  EXPECT_EQ(rx.try_recv().value_or(-1), 2);
  EXPECT_EQ(rx.try_recv().error(), broadcast::TryRecvError::closed());
}

TEST(BroadcastBasics, AMessageIsFreedOnceEveryReceiverHasIt) {
  auto live = std::make_shared<std::atomic<int>>(0);
  auto [tx, rx] = broadcast::channel<Tracked>(4);
  auto rx2 = tx.subscribe();
  EXPECT_TRUE(tx.send(Tracked(live)).has_value());
  EXPECT_EQ(live->load(), 1);
  {
    auto copy = rx.try_recv();
    EXPECT_TRUE(copy.has_value());
    EXPECT_EQ(live->load(), 2);  // rx's copy and the channel's
  }
  EXPECT_EQ(live->load(), 1);
  { broadcast::Receiver<Tracked> gone = std::move(rx2); }  // the last one that had not read it
  EXPECT_EQ(live->load(), 0);
}

TEST(BroadcastBasics, ZeroCapacityIsRejected) {
  EXPECT_THROW(static_cast<void>(broadcast::channel<int>(0)), std::invalid_argument);
}

// --- On the runtime ---------------------------------------------------------------------------

rt::Task<std::vector<int>> collect(broadcast::Receiver<int> rx,
                                   std::shared_ptr<std::atomic<int>> ready) {
  ready->fetch_add(1);
  std::vector<int> values;
  for (;;) {
    auto value = co_await rx.recv();
    if (!value) {
      EXPECT_TRUE(value.error().is_closed()) << "lagged by " << value.error().missed();
      co_return values;
    }
    values.push_back(*value);
  }
}

rt::Task<void> send_range(broadcast::Sender<int> tx, int from, int to) {
  for (int i = from; i < to; ++i) {
    EXPECT_TRUE(tx.send(i).has_value());
    if (i % 8 == 0) co_await rt::yield_now();
  }
}

rt::Task<void> fan_out() {
  constexpr int kReceivers = 4;
  constexpr int kPerSender = 500;
  // Room for everything, so nobody can lag: each receiver must see each message.
  auto [tx, rx] = broadcast::channel<int>(2 * kPerSender);
  auto ready = std::make_shared<std::atomic<int>>(0);
  std::vector<rt::JoinHandle<std::vector<int>>> receivers;
  for (int i = 0; i < kReceivers; ++i)
    receivers.push_back(rt::spawn(collect(tx.subscribe(), ready)));
  { broadcast::Receiver<int> unused = std::move(rx); }
  co_await wait_until([&ready] { return ready->load() == kReceivers; });
  auto a = rt::spawn(send_range(tx, 0, kPerSender));
  auto b = rt::spawn(send_range(tx, kPerSender, 2 * kPerSender));
  { broadcast::Sender<int> mine = std::move(tx); }
  EXPECT_TRUE((co_await a).has_value());
  EXPECT_TRUE((co_await b).has_value());
  for (auto& receiver : receivers) {
    auto values = co_await receiver;
    if (!values) {
      ADD_FAILURE() << "receiver failed";
      continue;
    }
    // Both senders' messages, each sender's in its order.
    EXPECT_EQ(values->size(), static_cast<std::size_t>(2 * kPerSender));
    int next_a = 0;
    int next_b = kPerSender;
    int misplaced = 0;
    for (int v : *values) {
      int& next = v < kPerSender ? next_a : next_b;
      if (v != next) ++misplaced;
      next = v + 1;
    }
    EXPECT_EQ(misplaced, 0);
    EXPECT_EQ(next_a, kPerSender);
    EXPECT_EQ(next_b, 2 * kPerSender);
  }
}

TEST(BroadcastRuntime, EveryReceiverSeesEveryMessageFromEverySender) {
  auto runtime = make_runtime();
  runtime.block_on(fan_out());
}

struct Accounting {
  std::uint64_t received = 0;
  std::uint64_t missed = 0;
  std::uint64_t errors = 0;  // a value that was not the one expected after the lag count
  std::uint64_t lag_reports = 0;
};

// Reads slowly, checking that each message is exactly the one the lag counts predict.
rt::Task<Accounting> read_slowly(broadcast::Receiver<std::uint64_t> rx) {
  Accounting acc;
  std::uint64_t expected = 0;
  for (;;) {
    auto value = co_await rx.recv();
    if (value) {
      if (*value != expected) ++acc.errors;
      expected = *value + 1;
      ++acc.received;
      if (acc.received % 4 == 0) co_await yield_many(3);
    } else if (value.error().is_lagged()) {
      acc.missed += value.error().missed();
      expected += value.error().missed();
      ++acc.lag_reports;
    } else {
      co_return acc;
    }
  }
}

rt::Task<void> send_fast(broadcast::Sender<std::uint64_t> tx, std::uint64_t count) {
  for (std::uint64_t i = 0; i < count; ++i) {
    EXPECT_TRUE(tx.send(i).has_value());
    if (i % 32 == 0) co_await rt::yield_now();
  }
}

rt::Task<void> lagging_accounts_for_everything() {
  constexpr std::uint64_t kMessages = 20000;
  auto [tx, rx] = broadcast::channel<std::uint64_t>(16);
  auto reader = rt::spawn(read_slowly(std::move(rx)));
  auto writer = rt::spawn(send_fast(std::move(tx), kMessages));
  EXPECT_TRUE((co_await writer).has_value());
  auto acc = co_await reader;
  if (!acc) {
    ADD_FAILURE() << "reader failed";
    co_return;
  }
  EXPECT_EQ(acc->errors, 0U);
  EXPECT_EQ(acc->received + acc->missed, kMessages);  // every message: read, or counted missed
  EXPECT_GE(acc->received, 16U);                      // at least the last ring's worth
}

TEST(BroadcastRuntime, ReceivedPlusMissedAccountsForEveryMessage) {
  auto runtime = make_runtime();
  runtime.block_on(lagging_accounts_for_everything());
}

rt::Task<void> recv_reports_lag() {
  auto [tx, rx] = broadcast::channel<int>(2);
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(tx.send(i).has_value());
  auto lag = co_await rx.recv();
  EXPECT_EQ(lag.has_value() ? 0 : lag.error().missed(), 3U);
  EXPECT_EQ((co_await rx.recv()).value_or(-1), 3);
  EXPECT_EQ((co_await rx.recv()).value_or(-1), 4);
  { broadcast::Sender<int> gone = std::move(tx); }
  auto end = co_await rx.recv();
  EXPECT_TRUE(!end.has_value() && end.error() == broadcast::RecvError::closed());
}

TEST(BroadcastRuntime, RecvReportsTheLagThenContinuesWithTheOldestHeld) {
  auto runtime = make_runtime();
  runtime.block_on(recv_reports_lag());
}

rt::Task<int> recv_one(broadcast::Receiver<int> rx, std::shared_ptr<std::atomic<bool>> started) {
  started->store(true);
  auto value = co_await rx.recv();
  co_return value.value_or(-1);
}

rt::Task<void> drop_sender_later(broadcast::Sender<int> tx) {
  co_await yield_many(50);
  broadcast::Sender<int> gone = std::move(tx);
}

rt::Task<void> waiter_woken_by_close() {
  auto [tx, rx] = broadcast::channel<int>(2);
  auto started = std::make_shared<std::atomic<bool>>(false);
  auto waiter = rt::spawn(recv_one(std::move(rx), started));
  auto dropper = rt::spawn(drop_sender_later(std::move(tx)));
  EXPECT_EQ((co_await waiter).value_or(-2), -1);  // closed
  EXPECT_TRUE((co_await dropper).has_value());
}

TEST(BroadcastRuntime, AWaitingReceiverSeesClosedWhenTheLastSenderLeaves) {
  auto runtime = make_runtime();
  runtime.block_on(waiter_woken_by_close());
}

// --- Cooperative budget ----------------------------------------------------------------------

std::uint64_t forced_yields() { return rt::Handle::current().metrics().budget_forced_yields; }

rt::Task<void> ready_receives_use_the_budget() {
  constexpr int kCount = 1000;
  auto [tx, rx] = broadcast::channel<int>(kCount);
  for (int i = 0; i < kCount; ++i) EXPECT_TRUE(tx.send(i).has_value());
  const std::uint64_t before = forced_yields();
  int wrong = 0;
  for (int i = 0; i < kCount; ++i) {
    if ((co_await rx.recv()).value_or(-1) != i) ++wrong;
  }
  EXPECT_EQ(wrong, 0);
  EXPECT_GE(forced_yields() - before, 5U);
}

TEST(BroadcastBudget, ReadyReceivesYieldOnceTheBudgetIsSpent) {
  auto runtime = make_runtime();
  runtime.block_on(ready_receives_use_the_budget());
}

rt::Task<int> immediately(int value) { co_return value; }

rt::Task<void> cancel_while_yielding_for_budget() {
  auto [tx, rx] = broadcast::channel<int>(4);
  EXPECT_TRUE(tx.send(1).has_value());
  rt::detail::coop::budget = 0;  // recv() is ready but must yield before reading
  auto lost = co_await rt::select(rx.recv(), immediately(7));
  EXPECT_EQ(lost.index(), 1U);
  rt::detail::coop::budget = 0;
  EXPECT_EQ((co_await rx.recv()).value_or(-1), 1);  // still there, read after the turn
  EXPECT_EQ(rx.try_recv().error(), broadcast::TryRecvError::empty());
}

TEST(BroadcastBudget, ARecvYieldingForBudgetCanBeCancelledWithoutLoss) {
  auto runtime = make_runtime();
  runtime.block_on(cancel_while_yielding_for_budget());
}

// --- Cancellation -----------------------------------------------------------------------------

rt::Task<void> abort_a_waiting_receiver() {
  auto [tx, rx] = broadcast::channel<int>(4);
  auto started = std::make_shared<std::atomic<bool>>(false);
  auto doomed_started = std::make_shared<std::atomic<bool>>(false);
  auto survivor = rt::spawn(recv_one(tx.subscribe(), started));
  auto doomed = rt::spawn(recv_one(tx.subscribe(), doomed_started));
  co_await wait_until([&] { return started->load() && doomed_started->load(); });
  co_await yield_many(20);
  doomed.abort();
  auto aborted = co_await doomed;
  EXPECT_TRUE(!aborted.has_value() && aborted.error().is_cancelled());
  EXPECT_EQ(tx.receiver_count(), 2U);  // rx and the survivor's

  EXPECT_EQ(tx.send(5).value_or(0), 2U);
  EXPECT_EQ((co_await survivor).value_or(-2), 5);
  EXPECT_EQ(drain(rx), (std::vector<int>{5}));
}

TEST(BroadcastCancel, AbortingAWaitingReceiverLeavesTheOthersIntact) {
  auto runtime = make_runtime();
  runtime.block_on(abort_a_waiting_receiver());
}

rt::Task<int> send_now(broadcast::Sender<int> tx, int value) {
  EXPECT_TRUE(tx.send(value).has_value());
  co_return value;
}

rt::Task<void> recv_loses_a_select() {
  auto [tx, rx] = broadcast::channel<int>(4);
  // recv() waits; the send wakes it, but the sending branch wins and recv() is dropped before
  // it read anything. The message stays for the next recv().
  auto outcome = co_await rt::select(rx.recv(), send_now(tx, 11));
  EXPECT_EQ(outcome.index(), 1U);
  EXPECT_EQ((co_await rx.recv()).value_or(-1), 11);
  EXPECT_EQ(rx.try_recv().error(), broadcast::TryRecvError::empty());
}

TEST(BroadcastCancel, ARecvThatLosesASelectLosesNoMessage) {
  auto runtime = make_runtime();
  runtime.block_on(recv_loses_a_select());
}

}  // namespace
