// Signals: deliveries reach every waiting task, only those after a Signal was created, coalesced;
// waiters that are cancelled leave nothing behind.
//
// ASSERT_* cannot be used inside a coroutine (it expands to `return`): EXPECT_* only.
//
// Every test listens before it raises: the first listen() installs the handler, and until then
// SIGHUP/SIGTERM would still terminate the test process.
#include "brigade/runtime/signal.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "brigade/runtime/join_handle.hpp"
#include "brigade/runtime/runtime.hpp"
#include "brigade/runtime/select.hpp"
#include "brigade/runtime/time.hpp"
#include "brigade/runtime/timeout.hpp"

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

// Generous: a delivery normally arrives within microseconds; this only bounds a broken run.
constexpr auto kDeliveryBound = 10s;
// How long a recv() must stay pending to count as "did not see a delivery".
constexpr auto kQuietPeriod = 100ms;

rt::Signal listen(rt::SignalKind kind) {
  auto signal = rt::Signal::listen(kind);
  if (!signal) throw std::system_error(signal.error(), "Signal::listen");
  return std::move(*signal);
}

// Yields (and naps, so a multi-thread runtime's other worker gets going) until `kind` has
// `count` parked recv() awaiters: afterwards a delivery must go through the dispatcher.
rt::Task<void> wait_for_waiters(rt::SignalKind kind, std::size_t count) {
  while (rt::detail::signal_waiters(kind) != count) co_await rt::sleep(1ms);
}

// Waits once on its own Signal, then counts the wake-up.
rt::Task<void> recv_once(rt::Signal signal, std::shared_ptr<std::atomic<int>> woken) {
  co_await signal.recv();
  ++*woken;
}

// True if `signal` sees a delivery within `bound`.
rt::Task<bool> received_within(rt::Signal& signal, std::chrono::milliseconds bound) {
  auto outcome = co_await rt::timeout(bound, signal.recv());
  co_return outcome.has_value();
}

class SignalTest : public ::testing::TestWithParam<Flavor> {};

TEST_P(SignalTest, RaiseWakesEveryWaitingTask) {
  auto runtime = make_runtime(GetParam());
  runtime.block_on([]() -> rt::Task<void> {
    constexpr int kTasks = 4;
    auto woken = std::make_shared<std::atomic<int>>(0);
    std::vector<rt::JoinHandle<void>> tasks;
    for (int i = 0; i < kTasks; ++i) {
      tasks.push_back(rt::spawn(recv_once(listen(rt::SignalKind::hangup), woken)));
    }
    co_await wait_for_waiters(rt::SignalKind::hangup, kTasks);
    EXPECT_EQ(woken->load(), 0);
    EXPECT_EQ(::raise(SIGHUP), 0);
    for (auto& task : tasks) {
      auto joined = co_await rt::timeout(kDeliveryBound, std::move(task));
      EXPECT_TRUE(joined.has_value() && joined->has_value()) << "a waiter was not woken";
    }
    EXPECT_EQ(woken->load(), kTasks);
    EXPECT_EQ(rt::detail::signal_waiters(rt::SignalKind::hangup), 0u);
  }());
}

TEST_P(SignalTest, KillFromAnotherThreadWakesEveryWaitingTask) {
  auto runtime = make_runtime(GetParam());
  runtime.block_on([]() -> rt::Task<void> {
    constexpr int kTasks = 3;
    auto woken = std::make_shared<std::atomic<int>>(0);
    std::vector<rt::JoinHandle<void>> tasks;
    for (int i = 0; i < kTasks; ++i) {
      tasks.push_back(rt::spawn(recv_once(listen(rt::SignalKind::terminate), woken)));
    }
    co_await wait_for_waiters(rt::SignalKind::terminate, kTasks);
    // Sent to the process, not a thread: the kernel picks any thread to run the handler (the
    // runtime's, possibly interrupting its epoll_wait).
    std::thread sender([] { ::kill(::getpid(), SIGTERM); });
    sender.join();
    for (auto& task : tasks) {
      auto joined = co_await rt::timeout(kDeliveryBound, std::move(task));
      EXPECT_TRUE(joined.has_value()) << "a waiter was not woken";
    }
    EXPECT_EQ(woken->load(), kTasks);
  }());
}

TEST_P(SignalTest, SignalCreatedAfterADeliveryDoesNotSeeIt) {
  auto runtime = make_runtime(GetParam());
  runtime.block_on([]() -> rt::Task<void> {
    rt::Signal before = listen(rt::SignalKind::hangup);
    // raise() runs the handler on this thread before it returns.
    EXPECT_EQ(::raise(SIGHUP), 0);
    rt::Signal after = listen(rt::SignalKind::hangup);
    EXPECT_TRUE(co_await received_within(before, kDeliveryBound));
    // The delivery's byte may still be in the pipe when `after` starts waiting: waking it must
    // not count as a delivery.
    EXPECT_FALSE(co_await received_within(after, kQuietPeriod));
    EXPECT_EQ(::raise(SIGHUP), 0);
    EXPECT_TRUE(co_await received_within(after, kDeliveryBound));
  }());
}

TEST_P(SignalTest, DeliveriesBeforeARecvAreCoalesced) {
  auto runtime = make_runtime(GetParam());
  runtime.block_on([]() -> rt::Task<void> {
    rt::Signal signal = listen(rt::SignalKind::hangup);
    for (int i = 0; i < 3; ++i) EXPECT_EQ(::raise(SIGHUP), 0);
    EXPECT_TRUE(co_await received_within(signal, kDeliveryBound));
    EXPECT_FALSE(co_await received_within(signal, kQuietPeriod));
    // A later delivery is seen again.
    EXPECT_EQ(::raise(SIGHUP), 0);
    EXPECT_TRUE(co_await received_within(signal, kDeliveryBound));
  }());
}

TEST_P(SignalTest, AbortedWaiterLeavesNoWaiterBehind) {
  auto runtime = make_runtime(GetParam());
  runtime.block_on([]() -> rt::Task<void> {
    auto woken = std::make_shared<std::atomic<int>>(0);
    auto first = rt::spawn(recv_once(listen(rt::SignalKind::hangup), woken));
    auto aborted = rt::spawn(recv_once(listen(rt::SignalKind::hangup), woken));
    auto last = rt::spawn(recv_once(listen(rt::SignalKind::hangup), woken));
    co_await wait_for_waiters(rt::SignalKind::hangup, 3);

    aborted.abort();
    auto outcome = co_await aborted;
    EXPECT_TRUE(!outcome.has_value() && outcome.error().is_cancelled());
    EXPECT_EQ(rt::detail::signal_waiters(rt::SignalKind::hangup), 2u);

    // Had the aborted waiter stayed linked, this wake-up would touch its freed frame.
    EXPECT_EQ(::raise(SIGHUP), 0);
    EXPECT_TRUE((co_await rt::timeout(kDeliveryBound, std::move(first))).has_value());
    EXPECT_TRUE((co_await rt::timeout(kDeliveryBound, std::move(last))).has_value());
    EXPECT_EQ(woken->load(), 2);
    EXPECT_EQ(rt::detail::signal_waiters(rt::SignalKind::hangup), 0u);
  }());
}

TEST_P(SignalTest, RecvCancelledBySelectLeavesTheList) {
  auto runtime = make_runtime(GetParam());
  runtime.block_on([]() -> rt::Task<void> {
    rt::Signal signal = listen(rt::SignalKind::interrupt);
    // The Signal is borrowed by select (operator co_await makes a fresh Recv per round).
    auto first = co_await rt::select(signal, rt::sleep(5ms));
    EXPECT_EQ(first.index(), 1u);
    EXPECT_EQ(rt::detail::signal_waiters(rt::SignalKind::interrupt), 0u);
    EXPECT_EQ(::raise(SIGINT), 0);
    auto second = co_await rt::select(signal, rt::sleep(kDeliveryBound));
    EXPECT_EQ(second.index(), 0u);
  }());
}

TEST_P(SignalTest, KindsAreIndependent) {
  auto runtime = make_runtime(GetParam());
  runtime.block_on([]() -> rt::Task<void> {
    rt::Signal hangup = listen(rt::SignalKind::hangup);
    rt::Signal interrupt = listen(rt::SignalKind::interrupt);
    EXPECT_EQ(interrupt.kind(), rt::SignalKind::interrupt);
    EXPECT_EQ(::raise(SIGINT), 0);
    EXPECT_FALSE(co_await received_within(hangup, kQuietPeriod));
    EXPECT_TRUE(co_await received_within(interrupt, kDeliveryBound));
  }());
}

INSTANTIATE_TEST_SUITE_P(Flavors, SignalTest,
                         ::testing::Values(Flavor::multi_thread, Flavor::current_thread),
                         flavor_name);

// Each runtime starts its own dispatcher; one that shut down leaves none behind that a later
// runtime (possibly at the same address) would mistake for its own.
TEST(SignalRuntimes, EachRuntimeInTurnGetsDeliveries) {
  for (int round = 0; round < 3; ++round) {
    auto runtime = rt::Builder::current_thread().build();
    runtime.block_on([]() -> rt::Task<void> {
      auto woken = std::make_shared<std::atomic<int>>(0);
      auto waiter = rt::spawn(recv_once(listen(rt::SignalKind::hangup), woken));
      co_await wait_for_waiters(rt::SignalKind::hangup, 1);
      EXPECT_EQ(::raise(SIGHUP), 0);
      EXPECT_TRUE((co_await rt::timeout(kDeliveryBound, std::move(waiter))).has_value());
      EXPECT_EQ(woken->load(), 1);
    }());
  }
}

// Two runtimes at once, a waiter on each: one delivery reaches both, whichever dispatcher reads
// the pipe.
TEST(SignalRuntimes, ConcurrentRuntimesBothSeeADelivery) {
  auto a = rt::Builder::multi_thread().worker_threads(1).build();
  auto b = rt::Builder::current_thread().build();
  auto woken = std::make_shared<std::atomic<int>>(0);
  auto on_a = a.block_on([](std::shared_ptr<std::atomic<int>> w) -> rt::Task<rt::JoinHandle<void>> {
    co_return rt::spawn(recv_once(listen(rt::SignalKind::hangup), std::move(w)));
  }(woken));
  std::thread driver_b([&b, woken] {
    b.block_on([](std::shared_ptr<std::atomic<int>> w) -> rt::Task<void> {
      auto waiter = rt::spawn(recv_once(listen(rt::SignalKind::hangup), std::move(w)));
      co_await wait_for_waiters(rt::SignalKind::hangup, 2);
      EXPECT_EQ(::raise(SIGHUP), 0);
      EXPECT_TRUE((co_await rt::timeout(kDeliveryBound, std::move(waiter))).has_value());
    }(woken));
  });
  driver_b.join();
  a.block_on([](rt::JoinHandle<void> waiter) -> rt::Task<void> {
    EXPECT_TRUE((co_await rt::timeout(kDeliveryBound, std::move(waiter))).has_value());
  }(std::move(on_a)));
  EXPECT_EQ(woken->load(), 2);
}

}  // namespace
