#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "blocking_pool.hpp"
#include "brigade/runtime/detail/context.hpp"
#include "brigade/runtime/metrics.hpp"
#include "brigade/runtime/runtime.hpp"
#include "driver.hpp"
#include "scheduler.hpp"
#include "stall_monitor.hpp"

namespace brigade::runtime::detail {

// Everything a runtime is made of. Shared: worker threads, Handles and blocking threads keep it
// alive, so a thread left running after a shutdown deadline never touches freed memory.
class RuntimeCore : public std::enable_shared_from_this<RuntimeCore> {
 public:
  explicit RuntimeCore(const RuntimeOptions& options);
  RuntimeCore(const RuntimeCore&) = delete;
  RuntimeCore& operator=(const RuntimeCore&) = delete;
  ~RuntimeCore();

  // Starts the worker threads (multi-thread flavor).
  void start();
  void drive_until(const std::atomic<bool>& done);
  void notify_block_on(std::atomic<bool>& done) noexcept;
  void shutdown(std::optional<std::chrono::steady_clock::time_point> deadline);
  RuntimeMetrics metrics() const;
  std::vector<TaskInfo> dump_tasks() { return scheduler_.dump_tasks(driver_.clock()); }

  void count_forced_yield() noexcept { forced_yields_.fetch_add(1, std::memory_order_relaxed); }

  Driver& driver() noexcept { return driver_; }
  WorkStealingScheduler& scheduler() noexcept { return scheduler_; }
  BlockingPool& blocking() noexcept { return blocking_; }
  RuntimeOptions::Flavor flavor() const noexcept { return options_.flavor; }
  // spawn_local: from now on, only this thread may drive the runtime (its local tasks stay here).
  void bind_to_this_thread();

 private:
  void run_worker_thread(std::size_t index);
  bool wait_workers_exited_until(std::optional<std::chrono::steady_clock::time_point> deadline);

  const RuntimeOptions options_;
  Driver driver_;
  WorkStealingScheduler scheduler_;
  BlockingPool blocking_;
  // After the scheduler it watches, so it stops first. Holds no reference to this core: the
  // last one may be dropped on any thread, and a thread cannot join itself.
  std::unique_ptr<StallMonitor> stall_monitor_;

  std::atomic<std::uint64_t> forced_yields_{0};
  // Current-thread flavor: a thread is inside block_on, running the one worker loop.
  std::atomic<bool> block_on_thread_{false};
  // Current-thread flavor, once spawn_local was used: the one thread allowed in block_on.
  std::atomic<std::thread::id> local_thread_{};

  std::vector<std::thread> threads_;
  std::mutex mutex_;  // guards the fields below
  std::condition_variable changed_;
  std::size_t workers_running_ = 0;
  bool shut_down_ = false;
};

// Makes `core` the current runtime of this thread for the scope's lifetime.
class RuntimeScope {
 public:
  explicit RuntimeScope(RuntimeCore* core) noexcept;
  RuntimeScope(const RuntimeScope&) = delete;
  RuntimeScope& operator=(const RuntimeScope&) = delete;
  ~RuntimeScope();

 private:
  RuntimeCore* outer_;
};

}  // namespace brigade::runtime::detail
