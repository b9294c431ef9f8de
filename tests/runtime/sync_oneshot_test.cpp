// oneshot: send/receive in both orders, dropped ends, close, try_recv, cancellation of a
// receiving task, and many channels across workers.
#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "brigade/runtime/runtime.hpp"
#include "brigade/runtime/sync/oneshot.hpp"
#include "brigade/runtime/time.hpp"

namespace rt = brigade::runtime;
namespace oneshot = brigade::runtime::oneshot;

namespace {

enum class Flavor { multi_thread, current_thread };

rt::Runtime make_runtime(Flavor flavor) {
  return flavor == Flavor::multi_thread ? rt::Builder::multi_thread().worker_threads(2).build()
                                        : rt::Builder::current_thread().build();
}

std::string flavor_name(const ::testing::TestParamInfo<Flavor>& info) {
  return info.param == Flavor::multi_thread ? "MultiThread" : "CurrentThread";
}

// Yields to the other tasks until `pred` holds (a scheduling wait, not a timed one).
//
// Callers capture by reference (the caller's frame outlives the wait): GCC 12 destroys a
// temporary argument twice when a coroutine call with a capturing-by-value lambda or brace-made
// object as argument sits in a co_await expression, which double-releases a captured shared_ptr.
template <class Pred>
rt::Task<void> wait_until(Pred pred) {
  while (!pred()) co_await rt::yield_now();
}

class OneshotTest : public ::testing::TestWithParam<Flavor> {};

// Counts live instances, to see when an unreceived value is destroyed.
struct Tracked {
  explicit Tracked(std::shared_ptr<std::atomic<int>> live) : live_(std::move(live)) { ++*live_; }
  Tracked(Tracked&& other) noexcept : live_(other.live_) { ++*live_; }
  Tracked& operator=(Tracked&&) = delete;
  ~Tracked() { --*live_; }
  std::shared_ptr<std::atomic<int>> live_;
};

TEST(OneshotBasics, TryRecvSeesEmptyThenTheValueThenClosed) {
  auto [tx, rx] = oneshot::channel<std::string>();
  auto empty = rx.try_recv();
  ASSERT_FALSE(empty.has_value());
  EXPECT_EQ(empty.error(), oneshot::TryRecvError::empty);
  EXPECT_FALSE(tx.is_closed());
  EXPECT_TRUE(tx.send("hello").has_value());
  EXPECT_TRUE(tx.is_closed());  // used up
  auto value = rx.try_recv();
  ASSERT_TRUE(value.has_value());
  EXPECT_EQ(*value, "hello");
  auto after = rx.try_recv();
  ASSERT_FALSE(after.has_value());
  EXPECT_EQ(after.error(), oneshot::TryRecvError::closed);
}

TEST(OneshotBasics, DroppedSenderClosesTheChannel) {
  auto [tx, rx] = oneshot::channel<int>();
  { oneshot::Sender<int> gone = std::move(tx); }
  auto result = rx.try_recv();
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error(), oneshot::TryRecvError::closed);
}

TEST(OneshotBasics, SendToADroppedReceiverGivesTheValueBack) {
  auto [tx, rx] = oneshot::channel<std::unique_ptr<int>>();
  { oneshot::Receiver<std::unique_ptr<int>> gone = std::move(rx); }
  EXPECT_TRUE(tx.is_closed());
  auto result = tx.send(std::make_unique<int>(42));
  ASSERT_FALSE(result.has_value());
  ASSERT_NE(result.error(), nullptr);
  EXPECT_EQ(*result.error(), 42);
}

TEST(OneshotBasics, CloseRefusesLaterSendsButKeepsAnEarlierValue) {
  {
    auto [tx, rx] = oneshot::channel<int>();
    rx.close();
    EXPECT_TRUE(tx.is_closed());
    auto refused = tx.send(3);
    ASSERT_FALSE(refused.has_value());
    EXPECT_EQ(refused.error(), 3);
    EXPECT_EQ(rx.try_recv().error(), oneshot::TryRecvError::closed);
  }
  {
    auto [tx, rx] = oneshot::channel<int>();
    EXPECT_TRUE(tx.send(4).has_value());
    rx.close();
    auto kept = rx.try_recv();
    ASSERT_TRUE(kept.has_value());
    EXPECT_EQ(*kept, 4);
  }
}

TEST(OneshotBasics, UnreceivedValueDiesWithTheReceiver) {
  auto live = std::make_shared<std::atomic<int>>(0);
  auto [tx, rx] = oneshot::channel<Tracked>();
  EXPECT_TRUE(tx.send(Tracked(live)).has_value());
  EXPECT_EQ(live->load(), 1);
  { oneshot::Receiver<Tracked> gone = std::move(rx); }
  EXPECT_EQ(live->load(), 0);
}

rt::Task<int> send_then_receive() {
  auto [tx, rx] = oneshot::channel<int>();
  EXPECT_TRUE(tx.send(7).has_value());
  std::expected<int, oneshot::RecvError> value = co_await rx;
  co_return value.value_or(-1);
}

TEST_P(OneshotTest, ValueSentBeforeTheAwaitIsReceivedAtOnce) {
  auto runtime = make_runtime(GetParam());
  EXPECT_EQ(runtime.block_on(send_then_receive()), 7);
}

rt::Task<void> send_later(oneshot::Sender<std::string> tx, int yields) {
  for (int i = 0; i < yields; ++i) co_await rt::yield_now();
  auto sent = tx.send(std::string(1000, 'x'));
  EXPECT_TRUE(sent.has_value());
}

rt::Task<std::size_t> receive_from_another_task() {
  auto [tx, rx] = oneshot::channel<std::string>();
  auto sender = rt::spawn(send_later(std::move(tx), 100));
  auto value = co_await std::move(rx);
  auto joined = co_await sender;
  EXPECT_TRUE(joined.has_value());
  co_return value ? value->size() : 0;
}

TEST_P(OneshotTest, ReceiverWaitsForAValueFromAnotherTask) {
  auto runtime = make_runtime(GetParam());
  EXPECT_EQ(runtime.block_on(receive_from_another_task()), 1000U);
}

rt::Task<void> drop_without_sending(oneshot::Sender<int> tx) {
  co_await rt::yield_now();
  EXPECT_FALSE(tx.is_closed());
}

rt::Task<bool> receive_from_dropped_sender() {
  auto [tx, rx] = oneshot::channel<int>();
  auto sender = rt::spawn(drop_without_sending(std::move(tx)));
  std::expected<int, oneshot::RecvError> value = co_await rx;
  (void)co_await sender;
  // Awaiting again still reports the closed channel.
  std::expected<int, oneshot::RecvError> again = co_await rx;
  co_return !value.has_value() && value.error() == oneshot::RecvError{} && !again.has_value();
}

TEST_P(OneshotTest, SenderDroppedWithoutSendingGivesRecvError) {
  auto runtime = make_runtime(GetParam());
  EXPECT_TRUE(runtime.block_on(receive_from_dropped_sender()));
}

rt::Task<bool> wait_for_receiver_to_go(oneshot::Sender<int> tx) {
  co_await tx.closed();
  co_return tx.is_closed();
}

rt::Task<bool> sender_sees_receiver_drop() {
  auto [tx, rx] = oneshot::channel<int>();
  auto sender = rt::spawn(wait_for_receiver_to_go(std::move(tx)));
  for (int i = 0; i < 10; ++i) co_await rt::yield_now();
  { oneshot::Receiver<int> gone = std::move(rx); }
  auto result = co_await sender;
  co_return result.value_or(false);
}

TEST_P(OneshotTest, SenderClosedCompletesWhenTheReceiverIsDropped) {
  auto runtime = make_runtime(GetParam());
  EXPECT_TRUE(runtime.block_on(sender_sees_receiver_drop()));
}

// A receiving task is aborted while it waits; the receiver itself outlives it, so a value sent
// afterwards stays in the channel for the next receive.
struct SharedReceiver {
  oneshot::Receiver<int> rx;
  std::atomic<bool> started{false};
};

rt::Task<int> receive_shared(std::shared_ptr<SharedReceiver> s) {
  s->started = true;
  auto value = co_await s->rx;
  co_return value.value_or(-1);
}

rt::Task<void> abort_waiting_receiver() {
  auto [tx, rx] = oneshot::channel<int>();
  auto s = std::make_shared<SharedReceiver>();
  s->rx = std::move(rx);
  auto receiver = rt::spawn(receive_shared(s));
  co_await wait_until([&s] { return s->started.load(); });  // next suspension: the receive
  receiver.abort();
  auto result = co_await receiver;
  EXPECT_TRUE(!result.has_value() && result.error().is_cancelled());
  EXPECT_FALSE(tx.is_closed());
  EXPECT_TRUE(tx.send(11).has_value());
  auto kept = s->rx.try_recv();
  EXPECT_TRUE(kept.has_value());
  EXPECT_EQ(kept.value_or(-1), 11);
}

TEST_P(OneshotTest, AbortedReceivingTaskLeavesTheValueInTheChannel) {
  auto runtime = make_runtime(GetParam());
  runtime.block_on(abort_waiting_receiver());
}

// The aborted task owned the receiver: cancelling it drops the receiver, so the sender learns
// it and gets its value back.
rt::Task<int> receive_owned(oneshot::Receiver<int> rx, std::shared_ptr<std::atomic<bool>> started) {
  *started = true;
  auto value = co_await rx;
  co_return value.value_or(-1);
}

rt::Task<void> abort_task_owning_receiver() {
  auto [tx, rx] = oneshot::channel<int>();
  auto started = std::make_shared<std::atomic<bool>>(false);
  auto receiver = rt::spawn(receive_owned(std::move(rx), started));
  co_await wait_until([&started] { return started->load(); });
  receiver.abort();
  auto result = co_await receiver;
  EXPECT_TRUE(!result.has_value() && result.error().is_cancelled());
  EXPECT_TRUE(tx.is_closed());
  auto refused = tx.send(12);
  EXPECT_FALSE(refused.has_value());
  EXPECT_EQ(refused.has_value() ? 0 : refused.error(), 12);
}

TEST_P(OneshotTest, AbortedTaskOwningTheReceiverClosesTheChannel) {
  auto runtime = make_runtime(GetParam());
  runtime.block_on(abort_task_owning_receiver());
}

// Request/reply: each request carries the sender for its reply.
rt::Task<void> serve(int request, oneshot::Sender<long> reply) {
  if (request % 3 == 0) co_await rt::yield_now();
  auto sent = reply.send(long{request} * 2);
  EXPECT_TRUE(sent.has_value());
}

rt::Task<long> many_replies(int count) {
  std::vector<oneshot::Receiver<long>> replies;
  for (int i = 0; i < count; ++i) {
    auto [tx, rx] = oneshot::channel<long>();
    (void)rt::spawn(serve(i, std::move(tx)));  // detached: the reply is the result
    replies.push_back(std::move(rx));
  }
  long sum = 0;
  for (auto& rx : replies) {
    auto value = co_await rx;
    sum += value.value_or(-1'000'000);
  }
  co_return sum;
}

TEST_P(OneshotTest, ManyRepliesAcrossWorkersAllArrive) {
  constexpr int kCount = 2000;
  auto runtime = make_runtime(GetParam());
  EXPECT_EQ(runtime.block_on(many_replies(kCount)), long{kCount} * (kCount - 1));
}

// The other direction: many tasks wait while one task sends to them all.
rt::Task<long> await_value(oneshot::Receiver<long> rx) {
  auto value = co_await rx;
  co_return value.value_or(-1'000'000);
}

rt::Task<long> many_waiters(int count) {
  std::vector<oneshot::Sender<long>> senders;
  std::vector<rt::JoinHandle<long>> waiters;
  for (int i = 0; i < count; ++i) {
    auto [tx, rx] = oneshot::channel<long>();
    senders.push_back(std::move(tx));
    waiters.push_back(rt::spawn(await_value(std::move(rx))));
  }
  for (int i = 0; i < count; ++i) {
    if (i % 2 == 0) co_await rt::yield_now();
    auto sent = senders[static_cast<std::size_t>(i)].send(i);
    EXPECT_TRUE(sent.has_value());
  }
  long sum = 0;
  for (auto& waiter : waiters) {
    auto result = co_await waiter;
    sum += result.value_or(-1'000'000);
  }
  co_return sum;
}

TEST_P(OneshotTest, ManyWaitingReceiversAcrossWorkersAllWake) {
  constexpr int kCount = 2000;
  auto runtime = make_runtime(GetParam());
  EXPECT_EQ(runtime.block_on(many_waiters(kCount)), long{kCount} * (kCount - 1) / 2);
}

INSTANTIATE_TEST_SUITE_P(Flavors, OneshotTest,
                         ::testing::Values(Flavor::multi_thread, Flavor::current_thread),
                         flavor_name);

}  // namespace
