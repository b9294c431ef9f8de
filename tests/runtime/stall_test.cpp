// The stall detector: a poll past stall_threshold is reported once while it runs (task, spawn
// site, annotation, the worker's stack) and once when it ends, and counted; a shorter one is
// not; a worker that cannot answer the backtrace signal still has its task named; 0 turns it
// off; shutting down with the monitor running never aborts, also when the last reference to the
// runtime goes with a blocking closure.
//
// No upper bound on wall-clock time is asserted: waits are bounded only to fail instead of hang.
#include "brigade/runtime/stall.hpp"

#include <gtest/gtest.h>
#include <pthread.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "brigade/runtime/runtime.hpp"
#include "brigade/runtime/task_annotation.hpp"

namespace rt = brigade::runtime;
using namespace std::chrono_literals;

namespace {

constexpr auto kPatience = 30s;  // only to fail instead of hanging

// What the runtime reported, for the test thread to wait on.
class Reports {
 public:
  std::function<void(const rt::StallReport&)> sink() {
    return [this](const rt::StallReport& report) {
      std::lock_guard guard(mutex_);
      reports_.push_back(report);
      changed_.notify_all();
    };
  }

  // Waits until the end of task `id`'s stall has been reported; returns every report for `id`.
  std::vector<rt::StallReport> until_ended(std::uint64_t id) {
    std::unique_lock lock(mutex_);
    const bool ended = changed_.wait_for(lock, kPatience, [&] {
      for (const auto& report : reports_) {
        if (report.task_id == id && report.phase == rt::StallReport::Phase::ended) return true;
      }
      return false;
    });
    EXPECT_TRUE(ended) << "no end of task " << id << "'s stall was reported";
    return of_locked(id);
  }

  std::vector<rt::StallReport> of(std::uint64_t id) {
    std::lock_guard guard(mutex_);
    return of_locked(id);
  }

  std::size_t size() {
    std::lock_guard guard(mutex_);
    return reports_.size();
  }

 private:
  std::vector<rt::StallReport> of_locked(std::uint64_t id) const {
    std::vector<rt::StallReport> out;
    for (const auto& report : reports_) {
      if (report.task_id == id) out.push_back(report);
    }
    return out;
  }

  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<rt::StallReport> reports_;
};

// Keeps its worker for `length` without ever suspending: the stall under test.
rt::Task<void> busy_wait(std::chrono::milliseconds length, const char* annotation) {
  const rt::TaskAnnotation doing(annotation);
  const auto until = std::chrono::steady_clock::now() + length;
  while (std::chrono::steady_clock::now() < until) {
  }
  co_return;
}

std::uint64_t stalls(const rt::RuntimeMetrics& metrics) {
  std::uint64_t total = 0;
  for (const auto& worker : metrics.worker) total += worker.stalls;
  return total;
}

rt::Task<void> join(rt::JoinHandle<void> handle) { static_cast<void>(co_await handle); }

rt::Runtime runtime_with(std::chrono::milliseconds threshold, Reports& reports) {
  return rt::Builder::multi_thread()
      .worker_threads(2)
      .stall_threshold(threshold)
      .on_stall(reports.sink())
      .build();
}

TEST(Stall, APollPastTheThresholdIsReportedOnceWhileItRunsAndOnceWhenItEnds) {
  Reports reports;
  auto runtime = runtime_with(10ms, reports);
  const std::uint32_t spawn_line = __LINE__ + 1;
  auto handle = runtime.spawn(busy_wait(50ms, "busy-waiting on purpose"));
  const std::uint64_t id = handle.id();
  runtime.block_on(join(std::move(handle)));

  const auto mine = reports.until_ended(id);
  ASSERT_EQ(mine.size(), 2u) << "one report while it runs, one when it ends, never more";
  const rt::StallReport& ongoing = mine[0];
  EXPECT_EQ(ongoing.phase, rt::StallReport::Phase::ongoing);
  EXPECT_GE(ongoing.duration, 10ms);
  EXPECT_EQ(ongoing.spawned_at.line(), spawn_line);
  EXPECT_NE(std::string(ongoing.spawned_at.file_name()).find("stall_test.cpp"), std::string::npos);
  EXPECT_EQ(ongoing.annotation, "busy-waiting on purpose");
  EXPECT_FALSE(ongoing.backtrace.empty()) << "the stuck worker's stack";
  EXPECT_NE(rt::describe(ongoing).find("busy-waiting on purpose"), std::string::npos);

  const rt::StallReport& ended = mine[1];
  EXPECT_EQ(ended.phase, rt::StallReport::Phase::ended);
  EXPECT_EQ(ended.worker, ongoing.worker);
  // The poll clock is CLOCK_MONOTONIC_COARSE: within one tick (4 ms here) of the truth.
  EXPECT_GE(ended.duration, 40ms);
  EXPECT_GE(stalls(runtime.metrics()), 1u);
}

// A worker that cannot answer the backtrace signal (here it blocks every signal; on a machine
// whose cores are all taken it may simply not run in time) still has its stall reported with
// the task's id, while it runs and when it ends: the worker records the id of each poll's task.
rt::Task<void> busy_wait_deaf(std::chrono::milliseconds length) {
  sigset_t all;
  sigset_t before;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, &before);
  const auto until = std::chrono::steady_clock::now() + length;
  while (std::chrono::steady_clock::now() < until) {
  }
  pthread_sigmask(SIG_SETMASK, &before, nullptr);
  co_return;
}

TEST(Stall, AWorkerThatCannotAnswerStillHasItsTaskNamed) {
  Reports reports;
  auto runtime = runtime_with(100ms, reports);
  auto handle = runtime.spawn(busy_wait_deaf(400ms));
  const std::uint64_t id = handle.id();
  runtime.block_on(join(std::move(handle)));
  const auto mine = reports.until_ended(id);
  ASSERT_EQ(mine.size(), 2u) << "one report while it runs, one when it ends";
  EXPECT_EQ(mine[0].phase, rt::StallReport::Phase::ongoing);
  EXPECT_TRUE(mine[0].backtrace.empty()) << "the worker had every signal blocked";
  EXPECT_EQ(mine[1].phase, rt::StallReport::Phase::ended);
  EXPECT_GE(mine[1].duration, 300ms);  // the poll clock is coarse: a tick short at most
}

TEST(Stall, APollUnderTheThresholdIsNotReported) {
  Reports reports;
  auto runtime = runtime_with(200ms, reports);
  auto short_one = runtime.spawn(busy_wait(5ms, "short"));
  const std::uint64_t short_id = short_one.id();
  runtime.block_on(join(std::move(short_one)));
  // A stall after it, whose report shows the monitor was watching all along.
  auto long_one = runtime.spawn(busy_wait(300ms, "long"));
  const std::uint64_t long_id = long_one.id();
  runtime.block_on(join(std::move(long_one)));
  EXPECT_EQ(reports.until_ended(long_id).size(), 2u);
  EXPECT_TRUE(reports.of(short_id).empty());
}

TEST(Stall, AZeroThresholdTurnsTheDetectorOff) {
  Reports reports;
  auto runtime = runtime_with(0ms, reports);
  auto handle = runtime.spawn(busy_wait(30ms, "unwatched"));
  runtime.block_on(join(std::move(handle)));
  runtime.shutdown_timeout(1s);  // the last poll has ended and been looked at
  EXPECT_EQ(stalls(runtime.metrics()), 0u);
  EXPECT_EQ(reports.size(), 0u);
}

// The closure keeps a Handle, so the runtime's core outlives the Runtime object and is destroyed
// on the blocking thread, monitor and all, once `release` lets it finish.
rt::Task<void> park_a_blocking_closure_holding_a_handle(std::atomic<bool>* release,
                                                        std::atomic<bool>* started) {
  auto job = rt::spawn_blocking([handle = rt::Handle::current(), release, started] {
    started->store(true);
    started->notify_all();
    release->wait(false);
  });
  started->wait(false);
  co_return;
}

// Destroyed with the runtime's core, wherever that happens.
class CoreGone {
 public:
  class Sentinel {
   public:
    explicit Sentinel(CoreGone* owner) noexcept : owner_(owner) {}
    Sentinel(const Sentinel&) = delete;
    Sentinel& operator=(const Sentinel&) = delete;
    ~Sentinel() {
      std::lock_guard guard(owner_->mutex_);
      owner_->gone_ = true;
      owner_->gone_on_ = std::this_thread::get_id();
      owner_->changed_.notify_all();
    }

   private:
    CoreGone* owner_;
  };
  // The thread the core was destroyed on, once it has been.
  std::optional<std::thread::id> wait() {
    std::unique_lock lock(mutex_);
    if (!changed_.wait_for(lock, kPatience, [this] { return gone_; })) return std::nullopt;
    return gone_on_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  bool gone_ = false;
  std::thread::id gone_on_;
};

TEST(Stall, ShutdownWithTheMonitorRunningWhileABlockingClosureHoldsAHandle) {
  CoreGone core_gone;
  std::atomic<bool> release{false};
  std::atomic<bool> started{false};
  {
    auto sentinel = std::make_shared<CoreGone::Sentinel>(&core_gone);
    auto runtime = rt::Builder::multi_thread()
                       .worker_threads(2)
                       .stall_threshold(10ms)
                       .on_stall([sentinel](const rt::StallReport&) {})
                       .build();
    sentinel.reset();  // the runtime's options hold the last one now
    runtime.block_on(park_a_blocking_closure_holding_a_handle(&release, &started));
    runtime.shutdown_timeout(0ms);  // leaves the closure running
  }
  release.store(true);
  release.notify_all();
  const auto gone_on = core_gone.wait();
  ASSERT_TRUE(gone_on) << "the core was never destroyed";
  EXPECT_NE(*gone_on, std::this_thread::get_id()) << "the blocking thread let the core go";
}

}  // namespace
