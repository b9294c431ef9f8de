#include "runtime_core.hpp"

#include <pthread.h>

#include <algorithm>
#include <cstdio>
#include <stdexcept>
#include <string>

#include "brigade/runtime/block_in_place.hpp"
#include "brigade/runtime/coop.hpp"
#include "brigade/runtime/detail/misuse.hpp"
#include "brigade/runtime/spawn_local.hpp"
#include "cpu_affinity.hpp"

namespace brigade::runtime::detail {
namespace {

thread_local RuntimeCore* tls_runtime = nullptr;
// A blocking thread keeps its runtime alive: after a shutdown deadline it may still be running a
// closure, and completing it calls back into the pool.
thread_local std::shared_ptr<RuntimeCore> tls_blocking_owner;

std::size_t worker_count(const RuntimeOptions& options) {
  if (options.flavor == RuntimeOptions::Flavor::current_thread) return 1;
  if (options.worker_threads != 0) return options.worker_threads;
  if (!options.worker_cpus.empty()) return options.worker_cpus.size();
  return std::max(1u, std::thread::hardware_concurrency());
}

void name_this_thread(const std::string& name) {
  // Linux limits thread names to 15 characters.
  pthread_setname_np(pthread_self(), name.substr(0, 15).c_str());
}

BlockingPool::Options blocking_options(const RuntimeOptions& options, RuntimeCore* core) {
  BlockingPool::Options out;
  out.max_threads = options.max_blocking_threads;
  out.keep_alive = options.blocking_keep_alive;
  out.queue_limit = options.blocking_queue_limit;
  out.thread_name = options.thread_name + "-blk";
  out.nice = options.blocking_nice;
  out.cpus = options.blocking_cpus;
  // Pool threads are started by workers, whose affinity they inherit: without CPUs of their own
  // they take back the ones the runtime's creator may use.
  if (out.cpus.empty() && !options.worker_cpus.empty()) out.cpus = allowed_cpus();
  // Blocking closures may spawn tasks on their runtime, as in Tokio.
  out.on_thread_start = [core] {
    tls_blocking_owner = core->shared_from_this();
    tls_runtime = core;
  };
  out.on_thread_stop = [] {
    tls_runtime = nullptr;
    tls_blocking_owner.reset();
  };
  out.on_task_completed = [core] { core->driver().allow_auto_advance(); };
  return out;
}

std::function<void(const StallReport&)> stall_sink(const RuntimeOptions& options) {
  if (options.on_stall) return options.on_stall;
  return [](const StallReport& report) {
    std::string line = describe(report);
    for (const std::string& frame : report.backtrace) line += "\n    " + frame;
    line += '\n';
    std::fwrite(line.data(), 1, line.size(), stderr);
  };
}

}  // namespace

RuntimeScope::RuntimeScope(RuntimeCore* core) noexcept : outer_(tls_runtime) { tls_runtime = core; }
RuntimeScope::~RuntimeScope() { tls_runtime = outer_; }

RuntimeCore* current_runtime() noexcept { return tls_runtime; }

RuntimeCore& expect_current_runtime() noexcept {
  if (tls_runtime == nullptr) {
    fail_misuse(
        "no runtime on this thread: spawn, sleep and I/O need one (run them inside block_on or a "
        "task; from other threads, spawn through Runtime::spawn or a Handle)");
  }
  return *tls_runtime;
}

Scheduler* task_scheduler(RuntimeCore& core) noexcept { return &core.scheduler(); }
Scheduler* blocking_scheduler(RuntimeCore& core) noexcept { return &core.blocking(); }

void submit_task(RuntimeCore& core, TaskHeader* task) noexcept { core.scheduler().spawn(task); }
// Every blocking cell comes here once and completes once (run, cancelled or rejected), which is
// what pairs the inhibit with the pool's on_task_completed.
bool submit_blocking(RuntimeCore& core, TaskHeader* task) noexcept {
  core.driver().inhibit_auto_advance();
  return core.blocking().submit(task);
}

void coop::count_forced_yield() noexcept {
  if (tls_runtime != nullptr) tls_runtime->count_forced_yield();
}

void drive_until(RuntimeCore& core, const std::atomic<bool>& done) { core.drive_until(done); }
void notify_block_on(RuntimeCore& core, std::atomic<bool>& done) noexcept {
  core.notify_block_on(done);
}

RuntimeCore::RuntimeCore(const RuntimeOptions& options)
    : options_(options),
      scheduler_(worker_count(options), driver_, options.stall_threshold,
                 options.latency_histograms),
      blocking_(blocking_options(options, this)) {
  if (options.stall_threshold.count() > 0) {
    stall_monitor_ =
        std::make_unique<StallMonitor>(scheduler_, options.stall_threshold, stall_sink(options));
  }
}

RuntimeCore::~RuntimeCore() = default;

void RuntimeCore::start() {
  if (options_.flavor == RuntimeOptions::Flavor::current_thread) return;
  const std::size_t count = scheduler_.workers();
  std::lock_guard guard(mutex_);
  threads_.reserve(count);
  for (std::size_t i = 0; i < count; ++i) {
    threads_.emplace_back([self = shared_from_this(), i] { self->run_worker_thread(i); });
    ++workers_running_;
  }
}

void RuntimeCore::run_worker_thread(std::size_t index) {
  pin_this_thread(options_.worker_cpus);  // before the name, which says the worker is ready
  name_this_thread(options_.thread_name + "-w" + std::to_string(index));
  {
    RuntimeScope scope(this);
    scheduler_.run_worker(index);
  }
  std::lock_guard guard(mutex_);
  --workers_running_;
  changed_.notify_all();
}

void RuntimeCore::drive_until(const std::atomic<bool>& done) {
  if (current_task != nullptr) fail_misuse("block_on called from inside a runtime task");
  if (options_.flavor == RuntimeOptions::Flavor::current_thread) {
    // Its one worker loop runs on the thread in block_on: a second thread would run it too.
    if (block_on_thread_.exchange(true, std::memory_order_acquire)) {
      fail_misuse("block_on entered from two threads at once on a current-thread runtime");
    }
    const std::thread::id local = local_thread_.load(std::memory_order_relaxed);
    if (local != std::thread::id() && local != std::this_thread::get_id()) {
      fail_misuse(
          "block_on from a new thread: this runtime's spawn_local tasks belong to another thread");
    }
    {
      RuntimeScope scope(this);
      scheduler_.run_worker(0, &done);
    }
    block_on_thread_.store(false, std::memory_order_release);
    return;
  }
  std::unique_lock lock(mutex_);
  changed_.wait(lock, [&] { return done.load(std::memory_order_acquire); });
}

void RuntimeCore::notify_block_on(std::atomic<bool>& done) noexcept {
  // Under the lock: once drive_until sees `done` it may return and free it.
  std::lock_guard guard(mutex_);
  done.store(true, std::memory_order_release);
  changed_.notify_all();
}

bool RuntimeCore::wait_workers_exited_until(
    std::optional<std::chrono::steady_clock::time_point> deadline) {
  std::unique_lock lock(mutex_);
  auto exited = [this] { return workers_running_ == 0; };
  if (!deadline) {
    changed_.wait(lock, exited);
    return true;
  }
  return changed_.wait_until(lock, *deadline, exited);
}

void RuntimeCore::bind_to_this_thread() {
  std::thread::id expected{};
  const std::thread::id self = std::this_thread::get_id();
  if (!local_thread_.compare_exchange_strong(expected, self) && expected != self) {
    fail_misuse(
        "spawn_local from a new thread: this runtime's spawn_local tasks belong to another thread");
  }
}

RuntimeCore& expect_local_runtime() {
  RuntimeCore* core = current_runtime();
  if (core == nullptr || core->flavor() != RuntimeOptions::Flavor::current_thread ||
      current_task == nullptr) {
    throw std::logic_error(
        "spawn_local needs a current-thread runtime: call it from one of its tasks (on the "
        "multi-thread flavor tasks move between workers)");
  }
  core->bind_to_this_thread();
  return *core;
}

void hand_off_worker_before_blocking() {
  RuntimeCore* core = current_runtime();
  if (core == nullptr || current_task == nullptr) {
    throw std::logic_error("block_in_place: call it from a task of a runtime");
  }
  if (core->flavor() == RuntimeOptions::Flavor::current_thread) {
    throw std::logic_error(
        "block_in_place is refused on a current-thread runtime (its one thread would stop every "
        "task): use spawn_blocking");
  }
  core->scheduler().hand_off_queued_tasks();
}

void RuntimeCore::shutdown(std::optional<std::chrono::steady_clock::time_point> deadline) {
  // It would cancel the very task that is running it, then wait for its worker to stop.
  if (tls_runtime == this && current_task != nullptr) {
    fail_misuse("a runtime was shut down from one of its own tasks (or destroyed there)");
  }
  {
    std::lock_guard guard(mutex_);
    if (shut_down_) return;
    shut_down_ = true;
  }
  scheduler_.cancel_all_tasks();
  // The deadline is for the blocking pool and for workers stuck in a task that never yields.
  // Cancelled tasks always get a moment to run their cancellation (destructors, deregistration),
  // even when the caller's deadline has already passed: it ends as soon as they are gone.
  constexpr auto kCancellationFloor = std::chrono::seconds(1);
  const auto blocking_deadline = deadline;
  if (deadline)
    deadline = std::max(*deadline, std::chrono::steady_clock::now() + kCancellationFloor);
  if (options_.flavor == RuntimeOptions::Flavor::current_thread) {
    // No thread of our own: run the cancellations here.
    RuntimeScope scope(this);
    constexpr auto kRecheck = std::chrono::milliseconds(1);
    do {
      scheduler_.run_until_idle(0);
    } while (!scheduler_.wait_for_tasks_until(std::chrono::steady_clock::now() + kRecheck) &&
             (!deadline || std::chrono::steady_clock::now() < *deadline));
  } else {
    scheduler_.wait_for_tasks_until(
        deadline.value_or(std::chrono::steady_clock::time_point::max()));
  }
  // Before the workers stop: it signals their threads.
  if (stall_monitor_) stall_monitor_->stop();
  scheduler_.stop_workers();
  const bool all_exited = wait_workers_exited_until(deadline);
  for (auto& thread : threads_) {
    // A worker stuck in a task that never yields is left behind; it holds its own reference to
    // this core.
    if (all_exited) {
      thread.join();
    } else {
      thread.detach();
    }
  }
  threads_.clear();
  blocking_.shutdown(blocking_deadline);
  if (all_exited) scheduler_.drop_queued_tasks();
}

RuntimeMetrics RuntimeCore::metrics() const {
  RuntimeMetrics metrics;
  scheduler_.fill_metrics(metrics);
  metrics.budget_forced_yields = forced_yields_.load(std::memory_order_relaxed);
  metrics.io_registered = driver_.registered_io();
  metrics.io_events = driver_.io_events();
  metrics.blocking_threads = blocking_.threads();
  metrics.blocking_idle_threads = blocking_.idle_threads();
  metrics.blocking_queue_depth = blocking_.queue_depth();
  metrics.blocking_tasks_spawned = blocking_.spawned_total();
  metrics.blocking_tasks_rejected = blocking_.rejected_total();
  metrics.blocking_queue_wait = blocking_.queue_wait();
  return metrics;
}

}  // namespace brigade::runtime::detail
