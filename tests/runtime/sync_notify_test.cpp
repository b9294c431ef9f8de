// Notify: the stored permit, notify_waiters, cancellation of waiters, cross-thread hand-offs.
#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "brigade/runtime/runtime.hpp"
#include "brigade/runtime/sync/notify.hpp"
#include "brigade/runtime/time.hpp"

namespace rt = brigade::runtime;

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

struct Shared {
  rt::Notify notify;
  std::atomic<int> started{0};
  std::atomic<int> woken{0};
};

// Announces itself, then waits once. On the current-thread runtime a task that announced has
// also reached its suspension (or finished, if a permit was stored) before anyone else runs.
rt::Task<void> wait_once(std::shared_ptr<Shared> s) {
  ++s->started;
  co_await s->notify.notified();
  ++s->woken;
}

class NotifyTest : public ::testing::TestWithParam<Flavor> {};

TEST(NotifyBasics, NotifiedCountsNotifyWaitersFromCreation) {
  rt::Notify notify;
  rt::Notify::Notified before = notify.notified();
  EXPECT_FALSE(before.await_ready());
  notify.notify_waiters();
  EXPECT_TRUE(before.await_ready());
  rt::Notify::Notified after = notify.notified();
  EXPECT_FALSE(after.await_ready());
  rt::Notify::Notified moved = std::move(before);
  EXPECT_TRUE(moved.await_ready());
}

rt::Task<bool> permit_is_stored_once(std::shared_ptr<Shared> s) {
  s->notify.notify_one();
  s->notify.notify_one();
  s->notify.notify_one();
  co_await s->notify.notified();  // consumes the one stored permit without waiting
  auto waiter = rt::spawn(wait_once(s));
  co_await wait_until([&s] { return s->started.load() == 1; });
  bool finished_without_notify = waiter.is_finished();
  s->notify.notify_one();
  auto result = co_await waiter;
  EXPECT_TRUE(result.has_value());
  co_return finished_without_notify;
}

TEST_P(NotifyTest, NotifyOneWithoutWaitersStoresOnePermit) {
  auto runtime = make_runtime(GetParam());
  auto s = std::make_shared<Shared>();
  bool finished_early = runtime.block_on(permit_is_stored_once(s));
  EXPECT_FALSE(finished_early);  // three notify_one() calls left one permit, not three
  EXPECT_EQ(s->woken.load(), 1);
}

// Records the order in which waiters were woken.
struct OrderShared : Shared {
  std::atomic<int> next{0};
  std::atomic<int> rank[3] = {-1, -1, -1};
};

rt::Task<void> wait_and_rank(std::shared_ptr<OrderShared> s, int id) {
  ++s->started;
  co_await s->notify.notified();
  s->rank[id] = s->next++;
}

rt::Task<void> notify_one_is_fifo(std::shared_ptr<OrderShared> s) {
  std::vector<rt::JoinHandle<void>> waiters;
  for (int id = 0; id < 3; ++id) {
    waiters.push_back(rt::spawn(wait_and_rank(s, id)));
    co_await wait_until([&s, id] { return s->started.load() == id + 1; });
  }
  for (auto& waiter : waiters) {
    s->notify.notify_one();
    auto result = co_await waiter;  // the oldest waiter is the one woken
    EXPECT_TRUE(result.has_value());
  }
}

// Queue order is only certain where a waiter that announced itself has also queued: on the
// current-thread runtime.
TEST(NotifyCurrentThread, NotifyOneWakesTheLongestWaiting) {
  auto runtime = rt::Builder::current_thread().build();
  auto s = std::make_shared<OrderShared>();
  runtime.block_on(notify_one_is_fifo(s));
  EXPECT_EQ(s->rank[0].load(), 0);
  EXPECT_EQ(s->rank[1].load(), 1);
  EXPECT_EQ(s->rank[2].load(), 2);
}

// Creates its Notified before announcing itself, so a notify_waiters() after the announcement
// reaches it even if it has not suspended yet.
rt::Task<void> register_then_wait(std::shared_ptr<Shared> s) {
  rt::Notify::Notified notified = s->notify.notified();
  ++s->started;
  co_await notified;
  ++s->woken;
}

rt::Task<bool> notify_waiters_wakes_all(std::shared_ptr<Shared> s, int count) {
  std::vector<rt::JoinHandle<void>> waiters;
  for (int i = 0; i < count; ++i) waiters.push_back(rt::spawn(register_then_wait(s)));
  co_await wait_until([&s, count] { return s->started.load() == count; });
  s->notify.notify_waiters();
  for (auto& waiter : waiters) {
    auto result = co_await waiter;
    EXPECT_TRUE(result.has_value());
  }
  EXPECT_EQ(s->woken.load(), count);
  // notify_waiters() stored no permit: a new waiter waits.
  auto late = rt::spawn(wait_once(s));
  co_await wait_until([&s, count] { return s->started.load() == count + 1; });
  bool finished_without_notify = late.is_finished();
  s->notify.notify_one();
  auto late_result = co_await late;
  EXPECT_TRUE(late_result.has_value());
  co_return finished_without_notify;
}

TEST_P(NotifyTest, NotifyWaitersWakesEveryWaiterAndStoresNothing) {
  constexpr int kWaiters = 16;
  auto runtime = make_runtime(GetParam());
  auto s = std::make_shared<Shared>();
  EXPECT_FALSE(runtime.block_on(notify_waiters_wakes_all(s, kWaiters)));
  EXPECT_EQ(s->woken.load(), kWaiters + 1);
}

// After its announcement the waiter's next suspension point is notified(), so abort() takes
// effect there: the waiter is destroyed while queued, on either runtime flavour.
rt::Task<bool> abort_queued_waiter(std::shared_ptr<Shared> s) {
  auto waiter = rt::spawn(wait_once(s));
  co_await wait_until([&s] { return s->started.load() == 1; });
  waiter.abort();
  auto result = co_await waiter;
  EXPECT_TRUE(!result.has_value() && result.error().is_cancelled());
  // Nobody waits any more, so this stores the permit (had the aborted waiter stayed queued, it
  // would have been handed to it and lost).
  s->notify.notify_one();
  auto checker = rt::spawn(wait_once(s));
  co_await wait_until([&s] { return s->started.load() == 2; });
  co_await wait_until([&checker] { return checker.is_finished(); });
  co_return s->woken.load() == 1;
}

TEST_P(NotifyTest, AbortedWaiterLeavesTheQueue) {
  auto runtime = make_runtime(GetParam());
  auto s = std::make_shared<Shared>();
  EXPECT_TRUE(runtime.block_on(abort_queued_waiter(s)));
}

// notify_one() picks the first waiter, which is then aborted before it runs again: the
// notification must go to the second. On two workers the first may win the race and finish;
// then a second notify_one() is owed to the second waiter. Returns whether the first was
// cancelled.
rt::Task<bool> notification_passes_on(std::shared_ptr<Shared> s) {
  auto first = rt::spawn(wait_once(s));
  co_await wait_until([&s] { return s->started.load() == 1; });
  auto second = rt::spawn(wait_once(s));
  co_await wait_until([&s] { return s->started.load() == 2; });
  s->notify.notify_one();
  first.abort();
  auto first_result = co_await first;
  bool first_cancelled = !first_result.has_value();
  EXPECT_TRUE(first_cancelled ? first_result.error().is_cancelled() : s->woken.load() >= 1);
  if (!first_cancelled) s->notify.notify_one();
  auto second_result = co_await second;
  EXPECT_TRUE(second_result.has_value());
  EXPECT_EQ(s->woken.load(), first_cancelled ? 1 : 2);
  co_return first_cancelled;
}

TEST_P(NotifyTest, NotificationOfAnAbortedWaiterPassesToTheNext) {
  auto runtime = make_runtime(GetParam());
  auto s = std::make_shared<Shared>();
  bool first_cancelled = runtime.block_on(notification_passes_on(s));
  if (GetParam() == Flavor::current_thread) {
    EXPECT_TRUE(first_cancelled);
  }
}

// With no other waiter, the notification of an aborted waiter goes back to the stored permit.
rt::Task<bool> notification_returns_to_permit(std::shared_ptr<Shared> s) {
  auto waiter = rt::spawn(wait_once(s));
  co_await wait_until([&s] { return s->started.load() == 1; });
  s->notify.notify_one();
  waiter.abort();
  auto result = co_await waiter;
  bool cancelled = !result.has_value();
  if (!cancelled) co_return false;  // the waiter took it: nothing to check
  auto checker = rt::spawn(wait_once(s));
  co_await wait_until([&s] { return s->started.load() == 2; });
  // On the current-thread runtime the checker has run up to its notified(): with the permit
  // back it did not suspend and is done.
  EXPECT_TRUE(checker.is_finished());
  if (!checker.is_finished()) s->notify.notify_one();  // let the test end either way
  auto checked = co_await checker;
  EXPECT_TRUE(checked.has_value());
  co_return true;
}

TEST(NotifyCurrentThread, NotificationOfAnAbortedWaiterReturnsToThePermit) {
  auto runtime = rt::Builder::current_thread().build();
  auto s = std::make_shared<Shared>();
  EXPECT_TRUE(runtime.block_on(notification_returns_to_permit(s)));
  EXPECT_EQ(s->woken.load(), 1);
}

// Two tasks hand a turn back and forth; every notification is consumed exactly once.
struct PingPong {
  rt::Notify to_pong;
  rt::Notify to_ping;
  std::atomic<int> pongs{0};
};

rt::Task<void> ping(std::shared_ptr<PingPong> p, int rounds) {
  for (int i = 0; i < rounds; ++i) {
    p->to_pong.notify_one();
    co_await p->to_ping.notified();
  }
}

rt::Task<void> pong(std::shared_ptr<PingPong> p, int rounds) {
  for (int i = 0; i < rounds; ++i) {
    co_await p->to_pong.notified();
    ++p->pongs;
    p->to_ping.notify_one();
  }
}

rt::Task<void> play(std::shared_ptr<PingPong> p, int rounds) {
  auto a = rt::spawn(ping(p, rounds));
  auto b = rt::spawn(pong(p, rounds));
  auto ra = co_await a;
  auto rb = co_await b;
  EXPECT_TRUE(ra.has_value());
  EXPECT_TRUE(rb.has_value());
}

TEST_P(NotifyTest, PingPongAcrossWorkersLosesNoWakeUp) {
  constexpr int kRounds = 5000;
  auto runtime = make_runtime(GetParam());
  auto p = std::make_shared<PingPong>();
  runtime.block_on(play(p, kRounds));
  EXPECT_EQ(p->pongs.load(), kRounds);
}

// A work queue in the condition-variable style: the producer adds tokens and calls notify_one();
// consumers take tokens and wait when there are none. The last token wakes everyone to stop.
struct Tokens {
  rt::Notify notify;
  std::atomic<int> available{0};
  std::atomic<int> consumed{0};
  std::atomic<bool> done{false};
  std::vector<std::atomic<int>> per_consumer;
  explicit Tokens(int consumers) : per_consumer(static_cast<std::size_t>(consumers)) {}
};

bool take_token(Tokens& t) {
  int n = t.available.load();
  while (n > 0) {
    if (t.available.compare_exchange_weak(n, n - 1)) return true;
  }
  return false;
}

rt::Task<void> consume(std::shared_ptr<Tokens> t, int id, int total) {
  for (;;) {
    rt::Notify::Notified notified = t->notify.notified();  // before the checks: no lost wake-up
    if (t->done) co_return;
    if (take_token(*t)) {
      ++t->per_consumer[static_cast<std::size_t>(id)];
      if (++t->consumed == total) {
        t->done = true;
        t->notify.notify_waiters();
      }
      continue;
    }
    co_await notified;
  }
}

rt::Task<void> produce(std::shared_ptr<Tokens> t, int total) {
  for (int i = 0; i < total; ++i) {
    ++t->available;
    t->notify.notify_one();
    if (i % 64 == 0) co_await rt::yield_now();
  }
}

rt::Task<void> run_tokens(std::shared_ptr<Tokens> t, int consumers, int total) {
  std::vector<rt::JoinHandle<void>> handles;
  for (int id = 0; id < consumers; ++id) handles.push_back(rt::spawn(consume(t, id, total)));
  handles.push_back(rt::spawn(produce(t, total)));
  for (auto& handle : handles) {
    auto result = co_await handle;
    EXPECT_TRUE(result.has_value());
  }
}

TEST_P(NotifyTest, ManyConsumersAcrossWorkersTakeEveryTokenExactlyOnce) {
  constexpr int kConsumers = 6;
  constexpr int kTokens = 20000;
  auto runtime = make_runtime(GetParam());
  auto t = std::make_shared<Tokens>(kConsumers);
  runtime.block_on(run_tokens(t, kConsumers, kTokens));
  EXPECT_EQ(t->consumed.load(), kTokens);
  EXPECT_EQ(t->available.load(), 0);
  int sum = 0;
  for (auto& n : t->per_consumer) sum += n.load();
  EXPECT_EQ(sum, kTokens);
}

INSTANTIATE_TEST_SUITE_P(Flavors, NotifyTest,
                         ::testing::Values(Flavor::multi_thread, Flavor::current_thread),
                         flavor_name);

}  // namespace
