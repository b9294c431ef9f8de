// The blocking pool (blocking_pool.cpp) under every interleaving of its threads and the threads
// that submit to it, with its keep-alive wait timing out at whichever moment the checker picks:
// a job submitted while the only thread is deciding to exit still runs (the pool either hands it
// to that thread or starts another), and shutdown joins every thread.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <mutex>
#include <source_location>

#include "blocking_pool.hpp"
#include "brigade/runtime/detail/sync_primitives.hpp"
#include "brigade/runtime/detail/task_header.hpp"
#include "brigade_model/checker.hpp"
#include "model_test_support.hpp"

namespace brigade::runtime::detail {

extern thread_local const void* blocking_pool_of_this_thread;

namespace {

namespace model = brigade::model;

// Jobs done so far, for the submitter to wait on.
class Progress {
 public:
  void one_done() {
    std::lock_guard guard(mutex_);
    ++done_;
    changed_.notify_all();
  }
  // A job stranded in the queue with no thread for it leaves this waiting for ever: the checker
  // reports the deadlock.
  void wait_for(int jobs) {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return done_ >= jobs; });
  }

 private:
  sync::Mutex mutex_;
  sync::CondVar changed_;
  int done_ = 0;
};

// A job as the pool sees it: a task whose run() does the work and never asks to run again.
class Job final : public TaskHeader {
 public:
  Job(BlockingPool& pool, Progress& progress)
      : TaskHeader(&kVTable, &pool, std::source_location::current(), 1), progress_(progress) {}
  bool freed() const { return freed_; }
  int runs() const { return runs_; }

 private:
  static bool run(TaskHeader* header) noexcept {
    auto* job = static_cast<Job*>(header);
    ++job->runs_;
    job->progress_.one_done();
    return false;
  }
  static void destroy(TaskHeader* header) noexcept { static_cast<Job*>(header)->freed_ = true; }
  static constexpr TaskVTable kVTable{&Job::run, &Job::destroy};

  Progress& progress_;
  int runs_ = 0;
  bool freed_ = false;
};

model::Options options(int preemption_bound) {
  model::Options result = model::with_preemption_bound(preemption_bound);
  result.thread_locals = {{&blocking_pool_of_this_thread, sizeof blocking_pool_of_this_thread}};
  return result;
}

BlockingPool::Options pool_options(std::size_t max_threads) {
  BlockingPool::Options result;
  result.max_threads = max_threads;
  result.keep_alive = std::chrono::milliseconds(10);  // the checker decides when it passes
  return result;
}

void expect_ran_once_and_freed(const Job& job) {
  model::check(job.runs() == 1, "a job did not run exactly once");
  model::check(job.freed(), "a job's last reference was never dropped");
}

// The second job arrives while the thread that ran the first is idle, maybe at the very moment
// its keep-alive runs out.
TEST(BlockingPoolModel, AJobSubmittedAsTheIdleThreadTimesOutStillRuns) {
  model::expect_every_interleaving_passes(
      [] {
        Progress progress;
        BlockingPool pool(pool_options(1));
        Job first(pool, progress), second(pool, progress);
        model::check(pool.submit(&first), "the pool refused a job");
        progress.wait_for(1);
        model::check(pool.submit(&second), "the pool refused a job");
        progress.wait_for(2);
        pool.shutdown(std::nullopt);
        expect_ran_once_and_freed(first);
        expect_ran_once_and_freed(second);
      },
      options(3));
}

// Two submitters race each other and the pool's two threads growing and timing out.
TEST(BlockingPoolModel, ConcurrentSubmitsWhileThreadsGrowAndShrink) {
  model::expect_every_interleaving_passes(
      [] {
        Progress progress;
        BlockingPool pool(pool_options(2));
        Job first(pool, progress), second(pool, progress), third(pool, progress);
        model::check(pool.submit(&first), "the pool refused a job");
        {
          model::Thread submitter(
              [&] { model::check(pool.submit(&second), "the pool refused a job"); });
          model::check(pool.submit(&third), "the pool refused a job");
        }
        progress.wait_for(3);
        pool.shutdown(std::nullopt);
        expect_ran_once_and_freed(first);
        expect_ran_once_and_freed(second);
        expect_ran_once_and_freed(third);
      },
      options(2));
}

}  // namespace
}  // namespace brigade::runtime::detail
