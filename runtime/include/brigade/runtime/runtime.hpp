#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <exception>
#include <expected>
#include <functional>
#include <memory>
#include <optional>
#include <source_location>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "brigade/runtime/detail/context.hpp"
#include "brigade/runtime/join_handle.hpp"
#include "brigade/runtime/metrics.hpp"
#include "brigade/runtime/spawn.hpp"
#include "brigade/runtime/stall.hpp"
#include "brigade/runtime/task.hpp"
#include "brigade/runtime/task_dump.hpp"

namespace brigade::runtime {
namespace detail {

template <class T>
using BlockOnResult = std::expected<T, std::exception_ptr>;

// Sets `done` and wakes drive_until. Called from block_on's root task, also when it is cancelled.
void notify_block_on(RuntimeCore& core, std::atomic<bool>& done) noexcept;

// block_on's root task: runs `task` and publishes its outcome. The pointers stay valid because
// block_on does not return before `done` is set.
template <class T>
Task<void> signal_when_done(RuntimeCore* core, Task<T> task,
                            std::optional<BlockOnResult<T>>* result, std::atomic<bool>* done) {
  struct SignalOnExit {
    RuntimeCore* core;
    std::atomic<bool>* done;
    ~SignalOnExit() { notify_block_on(*core, *done); }
  } signal{core, done};
  // A local, so that the task's frame (and all it holds) is gone before `signal` fires.
  Task<T> inner = std::move(task);
  try {
    if constexpr (std::is_void_v<T>) {
      co_await std::move(inner);
      result->emplace();
    } else {
      result->emplace(co_await std::move(inner));
    }
  } catch (...) {
    result->emplace(std::unexpect, std::current_exception());
  }
}

// Returns once `done` is set: drives the runtime on this thread (current-thread flavor) or
// waits for the workers (multi-thread flavor).
void drive_until(RuntimeCore& core, const std::atomic<bool>& done);

}  // namespace detail

class Runtime;

// Settings of a runtime; Builder::build() makes it.
struct RuntimeOptions {
  enum class Flavor { multi_thread, current_thread };
  Flavor flavor = Flavor::multi_thread;
  std::size_t worker_threads = 0;  // 0: one per core
  std::size_t max_blocking_threads = 512;
  std::chrono::milliseconds blocking_keep_alive{10'000};
  std::optional<std::size_t> blocking_queue_limit;  // none: queue without bound
  // The blocking pool's threads run this much nicer than the thread that starts them (0..19;
  // Linux's nice, per thread), so that CPU-bound jobs give way to the workers on shared cores.
  // Blocking I/O jobs run at the same priority: under CPU contention they wait longer for a core.
  int blocking_nice = 0;
  // The CPUs the blocking pool's threads may run on (Linux's affinity); empty: wherever the
  // runtime's creator may. Keeping CPU-bound jobs off some cores leaves the workers cores where
  // they never have to preempt one; the jobs then share the cores they are given.
  std::vector<std::size_t> blocking_cpus;
  // The CPUs the worker threads may run on; empty: wherever the runtime's creator may. With
  // blocking_cpus, it keeps the workers off the cores the CPU-bound jobs run on. With
  // worker_threads at 0, it also sets how many workers there are: one per CPU named. The
  // multi-thread flavor only (a current-thread runtime's worker is the caller's thread).
  std::vector<std::size_t> worker_cpus;
  std::string thread_name = "brigade";
  // A poll of one task running this long or longer is a stall: reported to on_stall while it
  // lasts and when it ends, and counted per worker. Zero: no stall monitor.
  std::chrono::milliseconds stall_threshold{10};
  // Time every poll and every task's wait for a worker (RuntimeMetrics::poll_duration and
  // schedule_delay): about a cycle-counter read per poll; the two of a spawn and join (the
  // task's poll, its joiner's) are a fifth of what it costs on a virtual machine. Off, those two
  // histograms stay empty. Tokio's poll-time histogram is opt-in for the same reason.
  bool latency_histograms = false;
  // Called on the stall monitor's thread; unset: a line to stderr (describe()).
  std::function<void(const StallReport&)> on_stall;
};

class Builder {
 public:
  // Worker threads that steal work from each other; block_on waits from the calling thread.
  static Builder multi_thread();
  // Everything runs on the thread that calls block_on.
  static Builder current_thread();

  Builder& worker_threads(std::size_t count);
  Builder& max_blocking_threads(std::size_t count);
  Builder& blocking_keep_alive(std::chrono::milliseconds keep_alive);
  Builder& blocking_queue_limit(std::size_t limit);
  // Throws std::invalid_argument outside 0..19.
  Builder& blocking_nice(int nice);
  // Throws std::invalid_argument naming a CPU the calling thread may not run on.
  Builder& blocking_cpus(std::vector<std::size_t> cpus);
  // Throws std::invalid_argument naming a CPU the calling thread may not run on; build() throws
  // it for a current-thread runtime.
  Builder& worker_cpus(std::vector<std::size_t> cpus);
  Builder& thread_name(std::string name);
  Builder& stall_threshold(std::chrono::milliseconds threshold);
  Builder& on_stall(std::function<void(const StallReport&)> sink);
  Builder& latency_histograms(bool enabled);
  const RuntimeOptions& options() const noexcept { return options_; }

  Runtime build() const;

 private:
  explicit Builder(RuntimeOptions::Flavor flavor) { options_.flavor = flavor; }
  RuntimeOptions options_;
};

// A cheap, copyable reference to a runtime for spawning from any thread, inside or outside it.
class Handle {
 public:
  // The runtime of the calling worker or block_on; terminates if there is none.
  static Handle current();

  template <class T>
  JoinHandle<T> spawn(Task<T> task,
                      std::source_location where = std::source_location::current()) const {
    return detail::spawn_on(*core_, std::move(task), where);
  }
  template <class F>
  auto spawn_blocking(F&& fn, std::source_location where = std::source_location::current()) const {
    return detail::spawn_blocking_on(*core_, std::forward<F>(fn), where);
  }
  RuntimeMetrics metrics() const;
  // Every live async task: id, spawn site, state and annotation, copied out one shard of the
  // task list at a time (each shard locked only while it is read; workers never stop).
  std::vector<TaskInfo> dump_tasks() const;

 private:
  friend class Runtime;
  explicit Handle(std::shared_ptr<detail::RuntimeCore> core) noexcept : core_(std::move(core)) {}
  std::shared_ptr<detail::RuntimeCore> core_;
};

// Owns the workers, the blocking pool and the driver (timers, and I/O from the next layer on).
// Destroying it shuts it down: tasks left are cancelled, and running blocking closures are
// waited for.
class Runtime {
 public:
  explicit Runtime(const RuntimeOptions& options);
  Runtime(Runtime&&) noexcept;
  Runtime& operator=(Runtime&&) noexcept;
  ~Runtime();

  // Runs `task` to completion on this runtime and returns its value (or rethrows its exception).
  // The calling thread drives the current-thread flavor; with the multi-thread flavor it waits.
  template <class T>
  T block_on(Task<T> task) {
    std::optional<detail::BlockOnResult<T>> result;
    std::atomic<bool> done{false};
    auto root = detail::signal_when_done(core_.get(), std::move(task), &result, &done);
    static_cast<void>(detail::spawn_on(*core_, std::move(root), std::source_location::current()));
    detail::drive_until(*core_, done);
    if (!result) throw std::runtime_error("block_on: the runtime shut down first");
    if (!result->has_value()) std::rethrow_exception(result->error());
    if constexpr (!std::is_void_v<T>) return std::move(**result);
  }

  Handle handle() const { return Handle(core_); }
  template <class T>
  JoinHandle<T> spawn(Task<T> task, std::source_location where = std::source_location::current()) {
    return detail::spawn_on(*core_, std::move(task), where);
  }
  RuntimeMetrics metrics() const;
  std::vector<TaskInfo> dump_tasks() const;

  // Cancels every task left, stops the workers, and waits for running blocking closures for at
  // most `timeout` (threads still busy after that are left to finish on their own). The
  // cancellations themselves get at least a second, whatever `timeout` says: only a worker stuck
  // in a task that never yields is left behind.
  void shutdown_timeout(std::chrono::milliseconds timeout);

 private:
  std::shared_ptr<detail::RuntimeCore> core_;
};

}  // namespace brigade::runtime
