// The checker itself: it explores every order it should, and it catches protocols broken the
// ways the runtime's could be (a missing re-check before parking, a check-then-act that is not
// atomic), reporting a schedule that replays the failure.
#include "brigade_model/checker.hpp"

#include <gtest/gtest.h>

#include <mutex>
#include <set>
#include <string>

#include "brigade_model/primitives.hpp"

namespace brigade::model {
namespace {

TEST(ModelChecker, ExploresBothOrdersOfTwoRacingStores) {
  std::set<int> finals;
  const Report report = explore([&] {
    Atomic<int> value{0};
    {
      Thread first([&] { value.store(1); });
      Thread second([&] { value.store(2); });
    }
    finals.insert(value.load());
  });
  EXPECT_FALSE(report.failure) << report.describe();
  EXPECT_EQ(finals, (std::set<int>{1, 2}));
}

TEST(ModelChecker, RespectsThePreemptionBound) {
  // Two threads of three increments each: with no preemption only whole threads interleave.
  auto executions = [](int bound) {
    return explore(
               [] {
                 Atomic<int> value{0};
                 auto work = [&] {
                   for (int i = 0; i < 3; ++i) value.fetch_add(1);
                 };
                 Thread first(work);
                 Thread second(work);
               },
               with_preemption_bound(bound))
        .executions;
  };
  EXPECT_LT(executions(0), executions(1));
  EXPECT_LT(executions(1), executions(3));
}

TEST(ModelChecker, ATimedWaitBothTimesOutAndIsWoken) {
  std::set<std::cv_status> outcomes;
  const Report report = explore([&] {
    Mutex mutex;
    CondVar condvar;
    std::cv_status outcome{};
    {
      Thread waiter([&] {
        std::unique_lock lock(mutex);
        outcome = condvar.wait_for(lock, std::chrono::seconds(1));
      });
      Thread notifier([&] {
        std::lock_guard guard(mutex);
        condvar.notify_one();
      });
    }
    outcomes.insert(outcome);
  });
  EXPECT_FALSE(report.failure) << report.describe();
  EXPECT_EQ(outcomes,
            (std::set<std::cv_status>{std::cv_status::timeout, std::cv_status::no_timeout}));
}

TEST(ModelChecker, ChooseTriesEveryValue) {
  std::set<std::size_t> seen;
  const Report report = explore([&] { seen.insert(choose(3, "which")); });
  EXPECT_EQ(report.executions, 3u);
  EXPECT_EQ(seen, (std::set<std::size_t>{0, 1, 2}));
}

// A parker written the way the runtime's must not be: it checks for a notification, then
// locks and waits without checking again, so an unpark() between the two is lost.
class ParkerWithoutRecheck {
 public:
  void park() {
    if (notified_.load()) return;
    std::unique_lock lock(mutex_);
    condvar_.wait(lock);  // the missing re-check of notified_ under the lock
  }
  void unpark() {
    notified_.store(true);
    std::lock_guard guard(mutex_);
    condvar_.notify_one();
  }

 private:
  Atomic<bool> notified_{false};
  Mutex mutex_;
  CondVar condvar_;
};

void park_while_another_thread_unparks() {
  ParkerWithoutRecheck parker;
  Thread unparker([&] { parker.unpark(); });
  parker.park();
}

TEST(ModelChecker, CatchesAMissingRecheckBeforeParking) {
  const Report report = explore(park_while_another_thread_unparks);
  ASSERT_TRUE(report.failure) << "the lost wake-up went unnoticed";
  EXPECT_NE(report.failure->message.find("deadlock"), std::string::npos) << report.describe();
  std::printf("[ model    ] the broken parker: %s\n", report.describe().c_str());

  // Its schedule replays the same failure.
  const Report again = replay(park_while_another_thread_unparks, report.failure->schedule);
  ASSERT_TRUE(again.failure);
  EXPECT_EQ(again.failure->message, report.failure->message);
  EXPECT_EQ(again.failure->schedule, report.failure->schedule);
}

// Scheduling a task by testing its state and setting it in two steps, instead of in one
// (TaskHeader::wake does both under the task's lock): two wakers both schedule it.
TEST(ModelChecker, CatchesACheckThenActThatIsNotAtomic) {
  enum State : int { idle, scheduled };
  const Report report = explore([] {
    Atomic<int> state{idle};
    Atomic<int> times_queued{0};
    auto wake = [&] {
      if (state.load() == idle) {
        state.store(scheduled);
        times_queued.fetch_add(1);
      }
    };
    {
      Thread first(wake);
      Thread second(wake);
    }
    check(times_queued.load() == 1, "the task was queued twice");
  });
  ASSERT_TRUE(report.failure) << "the double schedule went unnoticed";
  EXPECT_NE(report.failure->message.find("queued twice"), std::string::npos) << report.describe();

  // The same with one compare-and-swap passes everywhere.
  const Report fixed = explore([] {
    Atomic<int> state{idle};
    Atomic<int> times_queued{0};
    auto wake = [&] {
      int expected = idle;
      if (state.compare_exchange_strong(expected, scheduled)) times_queued.fetch_add(1);
    };
    {
      Thread first(wake);
      Thread second(wake);
    }
    check(times_queued.load() == 1, "the task was queued twice");
  });
  EXPECT_FALSE(fixed.failure) << fixed.describe();
}

}  // namespace
}  // namespace brigade::model
