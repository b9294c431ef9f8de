#include "scheduler.hpp"

#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>

#include "brigade/runtime/detail/poll_clock.hpp"

namespace brigade::runtime::detail {
namespace {

// How often a worker polls the driver without parking, so that timers still fire while every
// worker is busy (Tokio: 61)...
constexpr std::uint32_t kEventInterval = 61;
// ...but not more often than this: an epoll_wait costs a few microseconds, and 61 tiny tasks
// (a fan-out of small computations) can take less than that. Readiness and timers wait this
// much longer at most, against a timer resolution of a millisecond.
constexpr std::uint64_t kMinDriverPollGapNs = 50'000;
// How often a worker looks at the injection queue before its own queue, so that tasks woken from
// outside are not starved by a worker whose local queue never empties (Tokio: 31).
constexpr std::uint32_t kGlobalQueueInterval = 31;
// A chain of tasks waking each other through the LIFO slot yields to the queue after this many.
constexpr unsigned kMaxLifoPolls = 3;
// At most this many tasks taken from the injection queue in one go.
constexpr std::size_t kMaxInjectBatch = 128;

struct WorkerContext {
  const WorkStealingScheduler* scheduler = nullptr;
  std::size_t index = 0;
};
thread_local WorkerContext tls_worker;

void bump(std::atomic<std::uint64_t>& counter, std::uint64_t by = 1) noexcept {
  counter.store(counter.load(std::memory_order_relaxed) + by, std::memory_order_relaxed);
}

std::uint64_t next_random(std::uint64_t& state) noexcept {
  // xorshift64*: enough to spread steal attempts over victims.
  state ^= state >> 12;
  state ^= state << 25;
  state ^= state >> 27;
  return state * 0x2545F4914F6CDD1DULL;
}

void unref_chain(TaskHeader* chain) noexcept {
  while (chain != nullptr) {
    TaskHeader* next = chain->queue_next;
    chain->queue_next = nullptr;
    chain->unref();
    chain = next;
  }
}

}  // namespace

WorkStealingScheduler::WorkStealingScheduler(std::size_t workers, Driver& driver,
                                             std::chrono::nanoseconds stall_threshold,
                                             bool latency_histograms)
    : idle_(workers),
      stall_threshold_ns_(stall_threshold.count()),
      latency_histograms_(latency_histograms) {
  workers_.reserve(workers);
  for (std::size_t i = 0; i < workers; ++i) {
    workers_.push_back(std::make_unique<Worker>(driver));
    workers_.back()->rng = 0x9E3779B97F4A7C15ULL * (i + 1);
  }
}

WorkStealingScheduler::~WorkStealingScheduler() { drop_queued_tasks(); }

WorkStealingScheduler::Worker* WorkStealingScheduler::current_worker() const noexcept {
  return tls_worker.scheduler == this ? workers_[tls_worker.index].get() : nullptr;
}

void WorkStealingScheduler::spawn(TaskHeader* task) noexcept {
  Worker* worker = current_worker();
  // A worker's counter has a single writer; the shared one for outside threads needs a real RMW.
  if (worker != nullptr) {
    bump(worker->spawned);
  } else {
    spawned_elsewhere_.fetch_add(1, std::memory_order_relaxed);
  }
  if (!owned_.insert(task)) {
    // Shutting down: the task completes as cancelled right here, without ever running.
    task->abort();
    task->run();    // records the cancellation; task_completed drops the owner's reference
    task->unref();  // the run queue's reference
    return;
  }
  schedule(task);
}

// A task made runnable on a worker is stamped with this: the start of the poll that wakes or
// spawns it, or the first wake-up of a driver turn. The stamp is then early by at most the waking
// poll's length so far (which poll_duration shows), and a driver turn that finds a thousand
// sockets ready reads the clock once, not a thousand times.
std::uint64_t WorkStealingScheduler::worker_now(Worker& worker) noexcept {
  if (!worker.clock_fresh) {
    worker.last_tick = clock_.now();
    worker.clock_fresh = true;
  }
  return worker.last_tick;
}

void WorkStealingScheduler::schedule(TaskHeader* task) noexcept {
  Worker* worker = current_worker();
  if (latency_histograms_) {
    task->runnable_since = worker != nullptr ? worker_now(*worker) : clock_.now();
  }
  if (worker == nullptr) {
    push_inject(task);
    return;
  }
  if (worker->running_task) {
    // Woken by the task running now: run it next on this worker, while its data is warm.
    task = std::exchange(worker->lifo, task);
    if (task == nullptr) return;
  } else if (inject_.len() != 0) {
    // Woken by the driver or a timer while older tasks wait in the injection queue (a local
    // queue overflowed): queue behind them. Going ahead of them into the local queue would
    // serve the newest first and leave the overflow waiting, a latency tail under overload.
    push_inject(task);
    return;
  }
  push_local(*worker, task);
}

void WorkStealingScheduler::push_local(Worker& worker, TaskHeader* task) noexcept {
  unref_chain(worker.local.push_back_or_overflow(task, inject_));
  // A lone worker is the one pushing: there is nobody to wake.
  if (!worker.in_park && workers_.size() > 1) notify_parked();
}

void WorkStealingScheduler::push_inject(TaskHeader* task) noexcept {
  if (!inject_.push(task)) {
    task->unref();  // stopped: nothing will run it
    return;
  }
  const Worker* worker = current_worker();
  if (worker == nullptr || !worker->in_park) notify_parked();
}

void WorkStealingScheduler::hand_off_queued_tasks() noexcept {
  Worker* worker = current_worker();
  if (worker == nullptr) return;
  if (TaskHeader* task = std::exchange(worker->lifo, nullptr)) push_inject(task);
  while (TaskHeader* task = worker->local.pop()) push_inject(task);
}

void WorkStealingScheduler::task_completed(TaskHeader* task) noexcept {
  Worker* worker = current_worker();
  if (worker != nullptr) {
    bump(worker->completed);
  } else {
    completed_elsewhere_.fetch_add(1, std::memory_order_relaxed);  // shared by outside threads
  }
  owned_.remove(task);
  task->unref();  // the owner's reference
}

bool WorkStealingScheduler::should_stop(const std::atomic<bool>* until) const noexcept {
  return stopping_.load(std::memory_order_acquire) ||
         (until != nullptr && until->load(std::memory_order_acquire));
}

void WorkStealingScheduler::run_worker(std::size_t index, const std::atomic<bool>* until) {
  const WorkerContext outer = tls_worker;
  tls_worker = {this, index};
  Worker& worker = *workers_[index];
  worker.thread_id.store(static_cast<int>(::gettid()), std::memory_order_relaxed);
  auto busy_since = std::chrono::steady_clock::now();
  while (!should_stop(until)) {
    ++worker.tick;
    if (worker.tick % kEventInterval == 0 &&
        clock_.elapsed_ns(worker.driver_polled_at, worker_now(worker)) >= kMinDriverPollGapNs) {
      worker.driver_polled_at = worker.last_tick;
      // Only as many events as the local queue has room for: what would overflow it is better
      // left in the kernel's ready list, which keeps its order, than moved to the injection
      // queue, from where it would run after tasks that became ready later.
      worker.clock_fresh = false;  // the turn's first wake-up reads the clock
      worker.parker.poll_driver(std::max<std::uint32_t>(worker.local.remaining_slots(), 1));
      worker.clock_fresh = false;
    }
    TaskHeader* task = next_task(worker);
    if (task == nullptr) {
      worker.clock_fresh = false;  // searching the other workers takes its own time
      task = steal_work(worker);
    }
    if (task != nullptr) {
      run_task(worker, task);
      continue;
    }
    stop_polling(worker);
    const auto now = std::chrono::steady_clock::now();
    bump(worker.busy_ns, static_cast<std::uint64_t>((now - busy_since).count()));
    park(worker, until);
    busy_since = std::chrono::steady_clock::now();
  }
  stop_polling(worker);
  worker.thread_id.store(0, std::memory_order_relaxed);
  const auto now = std::chrono::steady_clock::now();
  bump(worker.busy_ns, static_cast<std::uint64_t>((now - busy_since).count()));
  if (worker.searching) {
    worker.searching = false;
    if (idle_.transition_from_searching()) notify_parked();
  }
  tls_worker = outer;
}

void WorkStealingScheduler::run_until_idle(std::size_t index) {
  const WorkerContext outer = tls_worker;
  tls_worker = {this, index};
  Worker& worker = *workers_[index];
  while (TaskHeader* task = next_task(worker)) run_task(worker, task);
  stop_polling(worker);
  tls_worker = outer;
}

TaskHeader* WorkStealingScheduler::next_task(Worker& worker) {
  if (worker.tick % kGlobalQueueInterval == 0) {
    if (TaskHeader* task = inject_.pop()) return task;
  }
  if (TaskHeader* task = worker.local.pop()) return task;
  if (inject_.is_empty()) return nullptr;
  // Take a fair share of the injection queue, not all of it: other workers want some too.
  const std::size_t share = inject_.len() / workers_.size() + 1;
  const std::size_t count =
      std::min({share, std::size_t{worker.local.remaining_slots()}, kMaxInjectBatch});
  std::array<TaskHeader*, kMaxInjectBatch> batch;
  const std::size_t taken = inject_.pop_n(batch.data(), std::max<std::size_t>(count, 1));
  if (taken == 0) return nullptr;
  for (std::size_t i = 1; i < taken; ++i) {
    unref_chain(worker.local.push_back_or_overflow(batch[i], inject_));
  }
  return batch[0];
}

TaskHeader* WorkStealingScheduler::steal_work(Worker& worker) {
  if (!worker.searching) {
    if (!idle_.transition_to_searching()) return nullptr;
    worker.searching = true;
  }
  const std::size_t count = workers_.size();
  const std::size_t start = static_cast<std::size_t>(next_random(worker.rng) % count);
  for (std::size_t i = 0; i < count; ++i) {
    Worker& victim = *workers_[(start + i) % count];
    if (&victim == &worker) continue;
    const std::uint32_t before = worker.local.len();
    if (TaskHeader* task = victim.local.steal_into(worker.local)) {
      bump(worker.steal_operations);
      bump(worker.steals, 1 + worker.local.len() - before);
      return task;
    }
  }
  return inject_.pop();
}

void WorkStealingScheduler::run_task(Worker& worker, TaskHeader* task) {
  if (worker.searching) {
    // Found work: stop searching, and if we were the last searcher, wake another worker so
    // that any further queued work is picked up (Tokio's "transition_from_searching").
    worker.searching = false;
    if (idle_.transition_from_searching()) notify_parked();
  }
  worker.running_task = true;
  // Timed, one fine clock read per poll serves both histograms: it ends the task's wait and
  // starts its poll; the read that ends a poll starts the next, in a LIFO chain and, while the
  // worker does nothing else in between, in the next run.
  const bool timed = latency_histograms_;
  std::uint64_t poll_start = timed ? worker_now(worker) : 0;
  for (unsigned lifo_polls = 0;;) {
    start_poll(worker, poll_clock_ns(), task->id());
    bump(worker.polls);
    task->note_poll(tls_worker.index);
    // last_tick == poll_start: the wake stamp of what this poll wakes or spawns.
    if (timed) worker.schedule_delay.record(clock_.elapsed_ns(task->runnable_since, poll_start));
    const bool yielded = task->run();
    if (timed) {
      const std::uint64_t poll_end = clock_.now();
      worker.poll_duration.record(clock_.elapsed_ns(poll_start, poll_end));
      poll_start = poll_end;
      worker.last_tick = poll_end;  // for what dropping the task's reference wakes, and the next
    }
    if (yielded) {
      task->runnable_since = poll_start;  // this run's end, when timed
      push_local(worker, task);           // yielded: to the back, behind everyone else
    } else {
      task->unref();
    }
    task = std::exchange(worker.lifo, nullptr);
    if (task == nullptr) break;
    if (++lifo_polls >= kMaxLifoPolls) {
      push_local(worker, task);
      break;
    }
  }
  // Timed, the run's last reading (last_tick) is "now" for what follows; untimed, the runs took
  // an unknown time since the worker last read the clock.
  worker.clock_fresh = timed;
  worker.running_task = false;
}

void WorkStealingScheduler::start_poll(Worker& worker, std::int64_t now,
                                       std::uint64_t task_id) noexcept {
  close_poll(worker, now);
  // A sequence lock around the task's id (poll_probe reads it): the start is 0 while it changes.
  worker.poll_started_ns.store(0, std::memory_order_relaxed);
  std::atomic_thread_fence(std::memory_order_release);
  worker.polling_task_id.store(task_id, std::memory_order_relaxed);
  worker.poll_started_ns.store(now, std::memory_order_release);
  this_thread_poll_ns = now;
}

void WorkStealingScheduler::close_poll(Worker& worker, std::int64_t now) noexcept {
  // A poll ends at the worker's next clock read (the next poll or parking): what lies between,
  // picking the next task, is a few hundred nanoseconds against a threshold in milliseconds.
  const std::int64_t started = worker.poll_started_ns.load(std::memory_order_relaxed);
  if (started == 0 || stall_threshold_ns_ == 0) return;
  if (now - started >= stall_threshold_ns_) [[unlikely]] {
    worker.last_stall_started_ns.store(started, std::memory_order_relaxed);
    worker.last_stall_ns.store(now - started, std::memory_order_relaxed);
    worker.last_stall_task_id.store(worker.polling_task_id.load(std::memory_order_relaxed),
                                    std::memory_order_relaxed);
    worker.stalls.store(worker.stalls.load(std::memory_order_relaxed) + 1,
                        std::memory_order_release);
  }
}

void WorkStealingScheduler::stop_polling(Worker& worker) noexcept {
  worker.clock_fresh = false;
  close_poll(worker, poll_clock_ns());
  worker.poll_started_ns.store(0, std::memory_order_relaxed);
  this_thread_poll_ns = 0;
}

WorkStealingScheduler::PollProbe WorkStealingScheduler::poll_probe(
    std::size_t index) const noexcept {
  const Worker& worker = *workers_[index];
  PollProbe probe;
  probe.stalls = worker.stalls.load(std::memory_order_acquire);
  probe.last_stall_started_ns = worker.last_stall_started_ns.load(std::memory_order_relaxed);
  probe.last_stall_ns = worker.last_stall_ns.load(std::memory_order_relaxed);
  probe.last_stall_task_id = worker.last_stall_task_id.load(std::memory_order_relaxed);
  probe.started_ns = worker.poll_started_ns.load(std::memory_order_acquire);
  const std::uint64_t task_id = worker.polling_task_id.load(std::memory_order_relaxed);
  std::atomic_thread_fence(std::memory_order_acquire);
  // Unchanged (and not 0, "changing"): the id was written for this poll, not the next one.
  if (probe.started_ns != 0 &&
      worker.poll_started_ns.load(std::memory_order_relaxed) == probe.started_ns) {
    probe.task_id = task_id;
  }
  probe.thread_id = worker.thread_id.load(std::memory_order_relaxed);
  return probe;
}

std::int64_t WorkStealingScheduler::current_poll_started_ns() noexcept {
  const WorkerContext context = tls_worker;
  if (context.scheduler == nullptr) return 0;
  return context.scheduler->workers_[context.index]->poll_started_ns.load(
      std::memory_order_relaxed);
}

void WorkStealingScheduler::park(Worker& worker, const std::atomic<bool>* until) {
  const bool was_searching = std::exchange(worker.searching, false);
  if (idle_.transition_to_parked(tls_worker.index, was_searching)) notify_if_work_pending();
  for (;;) {
    bump(worker.parks);
    worker.in_park = true;
    worker.clock_fresh = false;  // a wake-up found by this park reads the clock, once per turn
    worker.parker.park();
    worker.in_park = false;
    worker.clock_fresh = false;
    // The driver or a timer may have woken tasks into our own queues while we sat in it: they
    // notified nobody (see Worker::in_park), so we take them, and wake a sleeper to share them
    // when there are more than ours to run next.
    const bool woke_work = !worker.local.is_empty() || !inject_.is_empty();
    if (should_stop(until) || woke_work) {
      // If someone already took us off the sleepers list, they counted us as searching.
      if (!idle_.unpark_worker_by_id(tls_worker.index)) worker.searching = true;
      if (woke_work && (worker.local.len() > 1 || !inject_.is_empty())) notify_parked();
      return;
    }
    if (!idle_.is_parked(tls_worker.index)) {
      worker.searching = true;  // woken by notify_parked, which counted us as a searcher
      return;
    }
  }
}

void WorkStealingScheduler::notify_parked() noexcept {
  // Pairs with the fence in notify_if_work_pending: the worker going to sleep either sees the
  // work we queued, or we see it among the sleepers.
  std::atomic_thread_fence(std::memory_order_seq_cst);
  if (auto index = idle_.worker_to_notify()) workers_[*index]->parker.unpark();
}

void WorkStealingScheduler::notify_if_work_pending() noexcept {
  std::atomic_thread_fence(std::memory_order_seq_cst);
  const bool pending =
      !inject_.is_empty() || std::any_of(workers_.begin(), workers_.end(),
                                         [](const auto& w) { return !w->local.is_empty(); });
  if (pending) notify_parked();
}

std::vector<TaskInfo> WorkStealingScheduler::dump_tasks(const PausableClock& timers) {
  std::vector<TaskInfo> tasks;
  owned_.snapshot(tasks, timers);
  return tasks;
}

void WorkStealingScheduler::cancel_all_tasks() { owned_.close_and_abort_all(); }

bool WorkStealingScheduler::wait_for_tasks_until(std::chrono::steady_clock::time_point deadline) {
  return owned_.wait_empty_until(deadline);
}

void WorkStealingScheduler::stop_workers() noexcept {
  stopping_.store(true, std::memory_order_release);
  inject_.close();
  for (auto& worker : workers_) worker->parker.unpark();
}

void WorkStealingScheduler::drop_queued_tasks() noexcept {
  for (auto& worker : workers_) {
    if (TaskHeader* task = std::exchange(worker->lifo, nullptr)) task->unref();
    while (TaskHeader* task = worker->local.pop()) task->unref();
  }
  while (TaskHeader* task = inject_.pop()) task->unref();
}

void WorkStealingScheduler::fill_metrics(RuntimeMetrics& metrics) const {
  metrics.workers = workers_.size();
  metrics.injection_queue_depth = inject_.len();
  std::uint64_t spawned = spawned_elsewhere_.load(std::memory_order_relaxed);
  std::uint64_t completed = completed_elsewhere_.load(std::memory_order_relaxed);
  metrics.worker.clear();
  for (const auto& worker : workers_) {
    WorkerMetrics& out = metrics.worker.emplace_back();
    out.local_queue_depth = worker->local.len();
    out.polls = worker->polls.load(std::memory_order_relaxed);
    out.steals = worker->steals.load(std::memory_order_relaxed);
    out.steal_operations = worker->steal_operations.load(std::memory_order_relaxed);
    out.overflows = worker->local.overflows();
    out.parks = worker->parks.load(std::memory_order_relaxed);
    out.busy = std::chrono::nanoseconds(worker->busy_ns.load(std::memory_order_relaxed));
    out.stalls = worker->stalls.load(std::memory_order_relaxed);
    worker->poll_duration.add_to(metrics.poll_duration);
    worker->schedule_delay.add_to(metrics.schedule_delay);
    spawned += worker->spawned.load(std::memory_order_relaxed);
    completed += worker->completed.load(std::memory_order_relaxed);
  }
  metrics.tasks_spawned = spawned;
  // The two sums are read at slightly different moments; never report a negative count.
  metrics.tasks_alive = spawned > completed ? spawned - completed : 0;
}

}  // namespace brigade::runtime::detail
