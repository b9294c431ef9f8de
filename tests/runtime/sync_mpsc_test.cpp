// mpsc: try_send/try_recv and capacity, backpressure, waiting senders served in order, many
// producers across workers, close and drop of either end, and cancellation (abort, select) of
// blocked sends and receives without losing a message or a slot.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "brigade/runtime/coop.hpp"
#include "brigade/runtime/join.hpp"
#include "brigade/runtime/runtime.hpp"
#include "brigade/runtime/select.hpp"
#include "brigade/runtime/sync/mpsc.hpp"
#include "brigade/runtime/time.hpp"

namespace rt = brigade::runtime;
namespace mpsc = brigade::runtime::mpsc;

namespace {

rt::Runtime make_runtime() { return rt::Builder::multi_thread().worker_threads(2).build(); }

// Yields to the other tasks until `pred` holds (a scheduling wait, not a timed one).
template <class Pred>
rt::Task<void> wait_until(Pred pred) {
  while (!pred()) co_await rt::yield_now();
}

// Lets other tasks run for a while; used before checking that something did NOT happen.
rt::Task<void> yield_many(int times) {
  for (int i = 0; i < times; ++i) co_await rt::yield_now();
}

template <class T>
std::vector<T> drain(mpsc::Receiver<T>& rx) {
  std::vector<T> values;
  while (auto value = rx.try_recv()) values.push_back(std::move(*value));
  return values;
}

// Counts live instances, to see when buffered values are destroyed.
struct Tracked {
  explicit Tracked(std::shared_ptr<std::atomic<int>> live) : live_(std::move(live)) { ++*live_; }
  Tracked(Tracked&& other) noexcept : live_(other.live_) { ++*live_; }
  Tracked& operator=(Tracked&&) = delete;
  ~Tracked() { --*live_; }
  std::shared_ptr<std::atomic<int>> live_;
};

// --- Without a runtime: the non-waiting operations ----------------------------------------------

TEST(MpscBasics, TrySendFillsTheCapacityThenReportsFull) {
  auto [tx, rx] = mpsc::channel<int>(3);
  EXPECT_EQ(tx.max_capacity(), 3U);
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(tx.try_send(i).has_value());
  EXPECT_EQ(tx.capacity(), 0U);

  auto full = tx.try_send(3);
  ASSERT_FALSE(full.has_value());
  EXPECT_TRUE(full.error().is_full());
  EXPECT_EQ(full.error().value, 3);

  auto first = rx.try_recv();
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(*first, 0);
  EXPECT_EQ(tx.capacity(), 1U);
  EXPECT_TRUE(tx.try_send(3).has_value());
  EXPECT_EQ(drain(rx), (std::vector<int>{1, 2, 3}));
  EXPECT_EQ(rx.try_recv().error(), mpsc::TryRecvError::empty);
  EXPECT_EQ(tx.capacity(), 3U);
}

TEST(MpscBasics, TheChannelEndsWhenTheLastSenderIsGone) {
  auto [tx, rx] = mpsc::channel<int>(4);
  {
    mpsc::Sender<int> copy = tx;
    EXPECT_TRUE(copy.try_send(1).has_value());
  }
  EXPECT_TRUE(tx.try_send(2).has_value());
  { mpsc::Sender<int> last = std::move(tx); }
  // Buffered values outlive the senders.
  EXPECT_EQ(drain(rx), (std::vector<int>{1, 2}));
  EXPECT_EQ(rx.try_recv().error(), mpsc::TryRecvError::disconnected);
}

TEST(MpscBasics, CloseRefusesSendsButKeepsWhatIsBuffered) {
  auto [tx, rx] = mpsc::channel<std::string>(4);
  EXPECT_TRUE(tx.try_send("a").has_value());
  EXPECT_TRUE(tx.try_send("b").has_value());
  rx.close();
  EXPECT_TRUE(tx.is_closed());
  auto refused = tx.try_send("c");
  ASSERT_FALSE(refused.has_value());
  EXPECT_TRUE(refused.error().is_closed());
  EXPECT_EQ(refused.error().value, "c");
  EXPECT_EQ(drain(rx), (std::vector<std::string>{"a", "b"}));
  // The sender is still alive, but nothing can come any more.
  EXPECT_EQ(rx.try_recv().error(), mpsc::TryRecvError::disconnected);
}

TEST(MpscBasics, DroppingTheReceiverDropsBufferedValuesAndFailsSends) {
  auto live = std::make_shared<std::atomic<int>>(0);
  auto [tx, rx] = mpsc::channel<Tracked>(4);
  EXPECT_TRUE(tx.try_send(Tracked(live)).has_value());
  EXPECT_TRUE(tx.try_send(Tracked(live)).has_value());
  EXPECT_EQ(live->load(), 2);
  { mpsc::Receiver<Tracked> gone = std::move(rx); }
  EXPECT_EQ(live->load(), 0);
  EXPECT_TRUE(tx.is_closed());
  auto refused = tx.try_send(Tracked(live));
  ASSERT_FALSE(refused.has_value());
  EXPECT_TRUE(refused.error().is_closed());
  EXPECT_EQ(live->load(), 1);  // the value came back
}

TEST(MpscBasics, ZeroCapacityIsRejected) {
  EXPECT_THROW(static_cast<void>(mpsc::channel<int>(0)), std::invalid_argument);
}

// --- On the runtime ---------------------------------------------------------------------------

rt::Task<void> produce_counting(mpsc::Sender<int> tx, int count,
                                std::shared_ptr<std::atomic<int>> sent) {
  for (int i = 0; i < count; ++i) {
    auto result = co_await tx.send(i);
    EXPECT_TRUE(result.has_value());
    sent->fetch_add(1);
  }
}

rt::Task<void> backpressure() {
  auto [tx, rx] = mpsc::channel<int>(4);
  auto sent = std::make_shared<std::atomic<int>>(0);
  auto producer = rt::spawn(produce_counting(tx, 20, sent));
  co_await wait_until([&sent] { return sent->load() >= 4; });
  // The fifth send waits for room: however long the producer gets, nothing more completes.
  co_await yield_many(200);
  EXPECT_EQ(sent->load(), 4);  // sends completed before the first recv
  EXPECT_EQ(tx.capacity(), 0U);

  auto first = co_await rx.recv();
  EXPECT_EQ(first, std::optional<int>(0));
  // One read makes room for exactly one more send.
  co_await wait_until([&sent] { return sent->load() >= 5; });
  co_await yield_many(200);
  EXPECT_EQ(sent->load(), 5);

  std::vector<int> received{*first};
  while (received.size() < 20) received.push_back((co_await rx.recv()).value_or(-1));
  std::vector<int> expected;
  for (int i = 0; i < 20; ++i) expected.push_back(i);
  EXPECT_EQ(received, expected);
  EXPECT_TRUE((co_await producer).has_value());
  EXPECT_EQ(sent->load(), 20);
}

TEST(MpscRuntime, AProducerBlocksAtCapacityUntilTheConsumerReads) {
  auto runtime = make_runtime();
  runtime.block_on(backpressure());
}

// Receives `count` values (or fewer if the channel ends). Awaited in place, so the pointer stays
// valid.
rt::Task<std::vector<int>> receive_n(mpsc::Receiver<int>* rx, std::size_t count) {
  std::vector<int> values;
  while (values.size() < count) {
    auto value = co_await rx->recv();
    if (!value) break;
    values.push_back(*value);
  }
  co_return values;
}

rt::Task<void> senders_in_line() {
  auto [tx, rx] = mpsc::channel<int>(1);
  EXPECT_TRUE(tx.try_send(0).has_value());
  // join starts its operands in order, so the three sends queue up in that order before the
  // receiver starts reading; with one slot, each read lets exactly the next one in.
  auto [a, b, c, received] =
      co_await rt::join(tx.send(1), tx.send(2), tx.send(3), receive_n(&rx, 4));
  EXPECT_TRUE(a.has_value());
  EXPECT_TRUE(b.has_value());
  EXPECT_TRUE(c.has_value());
  EXPECT_EQ(received, (std::vector<int>{0, 1, 2, 3}));
}

TEST(MpscRuntime, WaitingSendersAreServedInOrder) {
  auto runtime = make_runtime();
  runtime.block_on(senders_in_line());
}

rt::Task<void> produce_tagged(mpsc::Sender<std::pair<int, int>> tx, int producer, int count) {
  for (int i = 0; i < count; ++i) {
    auto result = co_await tx.send({producer, i});
    if (!result) {
      ADD_FAILURE() << "producer " << producer << " refused at " << i;
      co_return;
    }
    // Now and then let another task in, so producers interleave on the same worker too.
    if (i % 64 == 0) co_await rt::yield_now();
  }
}

rt::Task<void> many_producers() {
  constexpr int kProducers = 4;
  constexpr int kMessages = 5000;
  auto [tx, rx] = mpsc::channel<std::pair<int, int>>(8);
  std::vector<rt::JoinHandle<void>> producers;
  for (int p = 0; p < kProducers; ++p)
    producers.push_back(rt::spawn(produce_tagged(tx, p, kMessages)));
  { auto last = std::move(tx); }  // only the producers hold senders now

  std::vector<int> next(kProducers, 0);
  int total = 0;
  int out_of_order = 0;
  while (auto message = co_await rx.recv()) {
    auto [producer, seq] = *message;
    if (seq != next[producer]) ++out_of_order;
    next[producer] = seq + 1;
    ++total;
  }
  EXPECT_EQ(out_of_order, 0);
  EXPECT_EQ(total, kProducers * kMessages);
  for (int p = 0; p < kProducers; ++p) EXPECT_EQ(next[p], kMessages) << "producer " << p;
  for (auto& producer : producers) EXPECT_TRUE((co_await producer).has_value());
}

TEST(MpscRuntime, ManyProducersAcrossWorkersKeepPerProducerOrder) {
  auto runtime = make_runtime();
  runtime.block_on(many_producers());
}

// Sends `value`; gives it back if the channel refused it, nullopt if it was sent.
rt::Task<std::optional<std::string>> send_one(mpsc::Sender<std::string> tx, std::string value) {
  auto result = co_await tx.send(std::move(value));
  if (result) co_return std::nullopt;
  co_return std::move(result.error().value);
}

rt::Task<void> close_with_a_waiting_sender() {
  auto [tx, rx] = mpsc::channel<std::string>(1);
  EXPECT_TRUE(tx.try_send("buffered").has_value());
  auto waiting = rt::spawn(send_one(tx, "refused"));
  co_await yield_many(20);
  rx.close();
  auto bounced = co_await waiting;
  EXPECT_EQ(bounced.value_or(std::nullopt), std::optional<std::string>("refused"));
  EXPECT_TRUE(tx.is_closed());
  EXPECT_EQ(co_await rx.recv(), std::optional<std::string>("buffered"));
  EXPECT_EQ(co_await rx.recv(), std::nullopt);  // tx is alive, but the channel is closed
}

TEST(MpscRuntime, CloseFailsAWaitingSenderAndStillDeliversTheBuffer) {
  auto runtime = make_runtime();
  runtime.block_on(close_with_a_waiting_sender());
}

rt::Task<std::vector<int>> recv_close_drain(mpsc::Receiver<int>* rx) {
  std::vector<int> got;
  // Takes the filler, which grants the waiting send its slot; that send has not pushed yet.
  got.push_back((co_await rx->recv()).value_or(-1));
  rx->close();
  while (auto value = co_await rx->recv()) got.push_back(*value);
  co_return got;
}

rt::Task<void> granted_send_survives_close() {
  auto [tx, rx] = mpsc::channel<int>(1);
  EXPECT_TRUE(tx.try_send(0).has_value());
  auto [sent, got] = co_await rt::join(tx.send(7), recv_close_drain(&rx));
  EXPECT_TRUE(sent.has_value());
  EXPECT_EQ(got, (std::vector<int>{0, 7}));
}

TEST(MpscRuntime, ASendGrantedBeforeCloseIsStillDelivered) {
  auto runtime = make_runtime();
  runtime.block_on(granted_send_survives_close());
}

rt::Task<void> drop_sender_later(mpsc::Sender<int> tx) {
  co_await yield_many(50);
  EXPECT_TRUE((co_await tx.send(1)).has_value());
  co_await yield_many(50);
}

rt::Task<void> receiver_sees_the_end() {
  auto [tx, rx] = mpsc::channel<int>(2);
  auto sender = rt::spawn(drop_sender_later(std::move(tx)));
  EXPECT_EQ(co_await rx.recv(), std::optional<int>(1));
  EXPECT_EQ(co_await rx.recv(), std::nullopt);  // woken by the last sender leaving
  EXPECT_TRUE((co_await sender).has_value());
}

TEST(MpscRuntime, AWaitingReceiverIsWokenWhenTheLastSenderLeaves) {
  auto runtime = make_runtime();
  runtime.block_on(receiver_sees_the_end());
}

rt::Task<void> drop_receiver_under_a_waiting_sender() {
  auto [tx, rx] = mpsc::channel<std::string>(1);
  EXPECT_TRUE(tx.try_send("buffered").has_value());
  auto waiting = rt::spawn(send_one(tx, "bounced"));
  co_await yield_many(20);
  { mpsc::Receiver<std::string> gone = std::move(rx); }
  auto bounced = co_await waiting;
  EXPECT_EQ(bounced.value_or(std::nullopt), std::optional<std::string>("bounced"));
}

TEST(MpscRuntime, DroppingTheReceiverGivesAWaitingSenderItsValueBack) {
  auto runtime = make_runtime();
  runtime.block_on(drop_receiver_under_a_waiting_sender());
}

// --- Cooperative budget ----------------------------------------------------------------------

std::uint64_t forced_yields() { return rt::Handle::current().metrics().budget_forced_yields; }

rt::Task<void> ready_operations_use_the_budget() {
  constexpr int kCount = 1000;
  auto [tx, rx] = mpsc::channel<int>(kCount);
  // Every send finds room and every receive finds a value: without the budget this task would
  // never give its worker up. With 128 operations per turn it must yield several times.
  const std::uint64_t before_sends = forced_yields();
  for (int i = 0; i < kCount; ++i) EXPECT_TRUE((co_await tx.send(i)).has_value());
  const std::uint64_t before_recvs = forced_yields();
  EXPECT_GE(before_recvs - before_sends, 5U);
  int out_of_order = 0;
  for (int i = 0; i < kCount; ++i) {
    if ((co_await rx.recv()) != std::optional<int>(i)) ++out_of_order;
  }
  EXPECT_GE(forced_yields() - before_recvs, 5U);
  EXPECT_EQ(out_of_order, 0);
  EXPECT_EQ(tx.capacity(), static_cast<std::size_t>(kCount));
}

TEST(MpscBudget, ReadySendsAndReceivesYieldOnceTheBudgetIsSpent) {
  auto runtime = make_runtime();
  runtime.block_on(ready_operations_use_the_budget());
}

rt::Task<int> immediately(int value) { co_return value; }

rt::Task<void> cancel_while_yielding_for_budget() {
  auto [tx, rx] = mpsc::channel<int>(2);
  EXPECT_TRUE(tx.try_send(1).has_value());
  // With the budget spent, a ready recv() yields before taking anything; losing the select there
  // must leave the value in the channel.
  rt::detail::coop::budget = 0;
  auto lost_recv = co_await rt::select(rx.recv(), immediately(7));
  EXPECT_EQ(lost_recv.index(), 1U);
  // A ready send() keeps its slot over the yield; losing there must give the slot back.
  rt::detail::coop::budget = 0;
  auto lost_send = co_await rt::select(tx.send(2), immediately(8));
  EXPECT_EQ(lost_send.index(), 1U);
  EXPECT_EQ(tx.capacity(), 1U);
  EXPECT_EQ(drain(rx), (std::vector<int>{1}));
  EXPECT_EQ(tx.capacity(), 2U);

  // And one that is not cancelled completes after its turn.
  EXPECT_TRUE(tx.try_send(3).has_value());
  rt::detail::coop::budget = 0;
  EXPECT_EQ(co_await rx.recv(), std::optional<int>(3));
  rt::detail::coop::budget = 0;
  EXPECT_TRUE((co_await tx.send(4)).has_value());
  EXPECT_EQ(drain(rx), (std::vector<int>{4}));
}

TEST(MpscBudget, AnOperationYieldingForBudgetCanBeCancelledWithoutLoss) {
  auto runtime = make_runtime();
  runtime.block_on(cancel_while_yielding_for_budget());
}

// --- Cancellation -----------------------------------------------------------------------------

rt::Task<void> abort_a_blocked_producer() {
  auto [tx, rx] = mpsc::channel<int>(4);
  auto sent = std::make_shared<std::atomic<int>>(0);
  auto producer = rt::spawn(produce_counting(tx, 1000, sent));
  for (int i = 0; i < 10; ++i) EXPECT_EQ(co_await rx.recv(), std::optional<int>(i));
  // 10 read + 4 buffered: the producer is now stuck sending 14.
  co_await wait_until([&sent] { return sent->load() >= 14; });
  co_await yield_many(20);
  producer.abort();
  auto joined = co_await producer;
  EXPECT_TRUE(!joined.has_value() && joined.error().is_cancelled());
  EXPECT_EQ(sent->load(), 14);

  // Nothing was lost, 14 was never sent, and all four slots work.
  EXPECT_EQ(drain(rx), (std::vector<int>{10, 11, 12, 13}));
  EXPECT_EQ(tx.capacity(), 4U);
  for (int i = 100; i < 104; ++i) EXPECT_TRUE(tx.try_send(i).has_value());
  EXPECT_TRUE(tx.try_send(104).error().is_full());
  EXPECT_EQ(drain(rx), (std::vector<int>{100, 101, 102, 103}));
}

TEST(MpscCancel, AbortingABlockedSenderLosesNoMessageAndNoSlot) {
  auto runtime = make_runtime();
  runtime.block_on(abort_a_blocked_producer());
}

rt::Task<int> take_one(mpsc::Receiver<int>* rx) { co_return (co_await rx->recv()).value_or(-1); }

rt::Task<void> cancel_granted_send() {
  auto [tx, rx] = mpsc::channel<int>(1);
  EXPECT_TRUE(tx.try_send(0).has_value());
  // send(99) waits; take_one reads 0, which grants send(99) the freed slot, and wins the select
  // before send(99) could use it. Dropping the granted send must free the slot again.
  auto outcome = co_await rt::select(tx.send(99), take_one(&rx));
  EXPECT_EQ(outcome.index(), 1U);  // else std::get throws, failing the test
  EXPECT_EQ(std::get<1>(outcome), 0);
  EXPECT_EQ(rx.try_recv().error(), mpsc::TryRecvError::empty);  // 99 was not sent
  EXPECT_EQ(tx.capacity(), 1U);
  EXPECT_TRUE(tx.try_send(1).has_value());
  EXPECT_TRUE(tx.try_send(2).error().is_full());
  EXPECT_EQ(drain(rx), (std::vector<int>{1}));
}

TEST(MpscCancel, ACancelledSendThatWasGrantedASlotGivesItBack) {
  auto runtime = make_runtime();
  runtime.block_on(cancel_granted_send());
}

rt::Task<void> cancel_granted_sends_in_line() {
  auto [tx, rx] = mpsc::channel<int>(1);
  EXPECT_TRUE(tx.try_send(0).has_value());
  // Two sends wait in a join; the read grants the first, and losing the select drops both:
  // whichever order they are destroyed in, the slot passes along and ends up free.
  auto outcome = co_await rt::select(rt::join(tx.send(98), tx.send(99)), take_one(&rx));
  EXPECT_EQ(outcome.index(), 1U);  // else std::get throws, failing the test
  EXPECT_EQ(std::get<1>(outcome), 0);
  EXPECT_EQ(rx.try_recv().error(), mpsc::TryRecvError::empty);
  EXPECT_EQ(tx.capacity(), 1U);
}

TEST(MpscCancel, AGrantedSlotGivenBackPassesToTheNextSender) {
  auto runtime = make_runtime();
  runtime.block_on(cancel_granted_sends_in_line());
}

rt::Task<int> send_two(mpsc::Sender<int> tx, int first, int second) {
  EXPECT_TRUE(tx.try_send(first).has_value());
  EXPECT_TRUE(tx.try_send(second).has_value());
  co_return second;
}

rt::Task<void> cancel_handed_recv() {
  auto [tx, rx] = mpsc::channel<int>(2);
  // recv() waits on the empty channel; send_two hands it 42 (43 is buffered) and wins the
  // select before recv() resumed. The handed value must go back in front of 43.
  auto outcome = co_await rt::select(rx.recv(), send_two(tx, 42, 43));
  EXPECT_EQ(outcome.index(), 1U);  // else std::get throws, failing the test
  EXPECT_EQ(tx.capacity(), 0U);
  EXPECT_EQ(drain(rx), (std::vector<int>{42, 43}));
  EXPECT_EQ(tx.capacity(), 2U);
}

TEST(MpscCancel, ACancelledRecvPutsAHandedValueBackInFront) {
  auto runtime = make_runtime();
  runtime.block_on(cancel_handed_recv());
}

rt::Task<int> recv_flagged(mpsc::Receiver<int>* rx, std::shared_ptr<std::atomic<bool>> started) {
  started->store(true);
  co_return (co_await rx->recv()).value_or(-1);
}

struct RaceOutcomes {
  int first = 0;   // the abort came too late: the operation completed
  int second = 0;  // the abort won
};

rt::Task<RaceOutcomes> abort_receivers_racing_sends() {
  int delivered = 0;
  int returned = 0;
  for (int round = 0; round < 200; ++round) {
    auto [tx, rx] = mpsc::channel<int>(1);
    auto started = std::make_shared<std::atomic<bool>>(false);
    auto receiver = rt::spawn(recv_flagged(&rx, started));
    co_await wait_until([&started] { return started->load(); });
    EXPECT_TRUE(tx.try_send(round).has_value());
    // A varying head start, so that the abort lands both before and after the receiver resumed.
    co_await yield_many(round % 4);
    receiver.abort();
    auto joined = co_await receiver;
    // Exactly one of the two has the value: the receiver, or the channel again.
    if (joined.has_value()) {
      EXPECT_EQ(*joined, round);
      EXPECT_EQ(rx.try_recv().error(), mpsc::TryRecvError::empty);
      ++delivered;
    } else {
      EXPECT_TRUE(joined.error().is_cancelled());
      auto back = rx.try_recv();
      EXPECT_TRUE(back.has_value() && *back == round) << "round " << round;
      ++returned;
    }
    EXPECT_EQ(tx.capacity(), 1U);
  }
  EXPECT_EQ(delivered + returned, 200);
  co_return RaceOutcomes{delivered, returned};
}

TEST(MpscCancel, AbortingAReceiverRacingASendLosesNothing) {
  auto runtime = make_runtime();
  const auto outcomes = runtime.block_on(abort_receivers_racing_sends());
  // Both sides of the race were run, not only one of them 200 times.
  EXPECT_GT(outcomes.first, 0) << "no receiver got its value before the abort";
  EXPECT_GT(outcomes.second, 0) << "no abort landed before the receiver resumed";
}

rt::Task<int> send_flagged(mpsc::Sender<int> tx, int value,
                           std::shared_ptr<std::atomic<bool>> started) {
  started->store(true);
  co_return (co_await tx.send(value)).has_value() ? value : -1;
}

rt::Task<RaceOutcomes> abort_senders_racing_grants() {
  RaceOutcomes outcomes;
  for (int round = 0; round < 200; ++round) {
    auto [tx, rx] = mpsc::channel<int>(1);
    EXPECT_TRUE(tx.try_send(0).has_value());
    auto started1 = std::make_shared<std::atomic<bool>>(false);
    auto started2 = std::make_shared<std::atomic<bool>>(false);
    auto first = rt::spawn(send_flagged(tx, 1, started1));
    auto second = rt::spawn(send_flagged(tx, 2, started2));
    co_await wait_until([&] { return started1->load() && started2->load(); });
    co_await yield_many(round % 3);
    // The read grants the slot to whichever sender waits first; abort one of them meanwhile,
    // after a varying head start.
    EXPECT_EQ(co_await rx.recv(), std::optional<int>(0));
    co_await yield_many(round % 4);
    first.abort();
    auto first_joined = co_await first;
    std::vector<int> expected;
    if (first_joined.has_value()) {
      EXPECT_EQ(*first_joined, 1);
      expected.push_back(1);
      ++outcomes.first;
    } else {
      EXPECT_TRUE(first_joined.error().is_cancelled());
      ++outcomes.second;
    }
    expected.push_back(2);
    // Whatever the aborted one had (a place in line, a granted slot, a sent value), the other
    // still gets through and nothing extra appears.
    std::vector<int> got;
    for (std::size_t i = 0; i < expected.size(); ++i)
      got.push_back((co_await rx.recv()).value_or(-1));
    std::sort(got.begin(), got.end());
    EXPECT_EQ(got, expected) << "round " << round;
    auto second_joined = co_await second;
    EXPECT_TRUE(second_joined.has_value() && *second_joined == 2);
    EXPECT_EQ(rx.try_recv().error(), mpsc::TryRecvError::empty);
    EXPECT_EQ(tx.capacity(), 1U);
  }
  co_return outcomes;
}

TEST(MpscCancel, AbortingASenderRacingAGrantLosesNothing) {
  auto runtime = make_runtime();
  const auto outcomes = runtime.block_on(abort_senders_racing_grants());
  EXPECT_GT(outcomes.first, 0) << "no sender got its value through before the abort";
  EXPECT_GT(outcomes.second, 0) << "no abort landed while the sender waited";
}

}  // namespace
