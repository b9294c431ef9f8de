#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "brigade/runtime/detail/task_header.hpp"
#include "brigade/runtime/metrics.hpp"

namespace brigade::runtime::detail {

// The pool that runs spawn_blocking closures, modelled on Tokio's: one FIFO queue under a mutex,
// threads created on demand up to max_threads, and idle threads that exit after keep_alive.
//
// The queue, the counters and the thread handles live in a shared state that every pool thread
// keeps alive, so a thread left running after a shutdown deadline never touches freed memory of
// its own. (The task it runs still calls task_completed() on this object when its closure
// returns: whoever owns the pool must keep it alive until then.)
class BlockingPool final : public Scheduler {
 public:
  struct Options {
    std::size_t max_threads = 512;  // 0 is taken as 1: a pool without threads runs nothing
    std::chrono::milliseconds keep_alive{10'000};
    std::optional<std::size_t> queue_limit;        // none: unbounded
    std::string thread_name = "brigade-blocking";  // Linux keeps the first 15 characters
    int nice = 0;                   // added to each thread's nice value when it starts (0..19)
    std::vector<std::size_t> cpus;  // where the threads may run; empty: where their creator may
    // Run on each pool thread before its first task and after its last; must not throw.
    std::function<void()> on_thread_start;
    std::function<void()> on_thread_stop;
    // Run once per task when it completes (ran, cancelled or rejected); must not throw.
    std::function<void()> on_task_completed;
  };

  explicit BlockingPool(Options options);
  BlockingPool(const BlockingPool&) = delete;
  BlockingPool& operator=(const BlockingPool&) = delete;
  // shutdown() without a deadline, unless it has already been called.
  ~BlockingPool();

  // Queues a task (a BlockingCell carrying one reference for the queue, which the pool drops after
  // running it). Returns false, taking nothing, when queue_limit tasks are already waiting with no
  // thread on its way to them, when no thread can be created at all, or after shutdown.
  bool submit(TaskHeader* task) noexcept;

  // Stops accepting work, cancels the tasks that have not started, and waits until `deadline`
  // (nullopt: no limit) for running closures to finish. Threads still busy after the deadline are
  // detached and finish on their own. Only the first call does anything. From a pool thread (a
  // closure shutting its own runtime down) it waits for the other threads only.
  void shutdown(std::optional<std::chrono::steady_clock::time_point> deadline) noexcept;

  // Metrics: each reads one atomic, without the pool's lock.
  std::size_t threads() const noexcept;           // alive pool threads
  std::size_t idle_threads() const noexcept;      // waiting for work, none assigned to them yet
  std::size_t queue_depth() const noexcept;       // tasks waiting, not yet started
  std::uint64_t spawned_total() const noexcept;   // tasks accepted by submit()
  std::uint64_t rejected_total() const noexcept;  // tasks refused by submit()
  DurationHistogram queue_wait() const noexcept;  // from submit() to a thread starting the task

  // Scheduler. A blocking task is never woken again once queued (aborting a queued or running
  // cell only sets its flag), so schedule() is a safety net: it queues like submit() but ignores
  // queue_limit, so that a task handed to it is never dropped.
  void schedule(TaskHeader* task) noexcept override;
  void task_completed(TaskHeader* task) noexcept override;

 private:
  class Shared;
  std::shared_ptr<Shared> shared_;
};

}  // namespace brigade::runtime::detail
