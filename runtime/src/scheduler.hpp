#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include "brigade/runtime/detail/task_header.hpp"
#include "brigade/runtime/detail/tick_clock.hpp"
#include "brigade/runtime/metrics.hpp"
#include "driver.hpp"
#include "duration_recorder.hpp"
#include "idle.hpp"
#include "inject_queue.hpp"
#include "local_queue.hpp"
#include "owned_tasks.hpp"
#include "parker.hpp"

namespace brigade::runtime::detail {

// Tokio's multi-thread scheduler: each worker runs tasks from its LIFO slot and its bounded local
// queue, takes batches from the shared injection queue, steals half of a random victim's queue
// when it runs dry, and parks when there is nothing anywhere. With one worker driven from
// block_on it is also the current-thread flavor.
class WorkStealingScheduler final : public Scheduler {
 public:
  // A poll that runs `stall_threshold` or longer is counted as a stall (zero: none is).
  // `latency_histograms`: time each poll and each task's wait for one (RuntimeOptions).
  WorkStealingScheduler(std::size_t workers, Driver& driver,
                        std::chrono::nanoseconds stall_threshold, bool latency_histograms);
  ~WorkStealingScheduler();

  // Takes a new task (TaskCell::kInitialRefs references) and queues it; cancels it at once if
  // the scheduler is shutting down.
  void spawn(TaskHeader* task) noexcept;
  void schedule(TaskHeader* task) noexcept override;
  void task_completed(TaskHeader* task) noexcept override;

  // Runs worker `index` on the calling thread until shutdown, or until `until` becomes true.
  void run_worker(std::size_t index, const std::atomic<bool>* until = nullptr);

  // Runs queued tasks on the calling thread as worker `index` until none is left (the
  // current-thread flavor's shutdown uses it to run the cancellations).
  void run_until_idle(std::size_t index);

  // Shutdown, in order: cancel every task; wait (running workers do the cancelling; on the
  // thread that cancelled); stop the workers; after they are joined, drop whatever is still
  // queued.
  void cancel_all_tasks();
  bool wait_for_tasks_until(std::chrono::steady_clock::time_point deadline);
  void stop_workers() noexcept;
  void drop_queued_tasks() noexcept;

  // block_in_place: moves the calling worker's LIFO slot and local queue to the injection queue,
  // waking a parked worker for them. No-op off the workers.
  void hand_off_queued_tasks() noexcept;

  // Runs `wake` as if the driver (not the running task) woke the tasks it wakes: they queue in
  // order behind the others instead of taking turns in the LIFO slot. time::advance fires its
  // timers through it so that they run in deadline order.
  template <class F>
  void wake_as_driver(F&& wake) {
    Worker* worker = current_worker();
    const bool was_running = worker != nullptr && std::exchange(worker->running_task, false);
    wake();
    if (worker != nullptr) worker->running_task = was_running;
  }

  std::size_t workers() const noexcept { return workers_.size(); }
  void fill_metrics(RuntimeMetrics& metrics) const;
  // Every live async task (blocking closures are not listed), for Handle::dump_tasks().
  // `timers`: the timers' clock, for how long until a sleeping task's timer is due.
  std::vector<TaskInfo> dump_tasks(const PausableClock& timers);

  // What the stall monitor reads of a worker, without stopping it.
  struct PollProbe {
    std::int64_t started_ns = 0;  // poll_clock_ns() when the current poll started; 0: none
    std::uint64_t task_id = 0;    // the task that poll runs; 0: not read consistently with it
    std::uint64_t stalls = 0;     // polls that ended at or past the threshold
    // The last of them: its start stamp, its length and its task.
    std::int64_t last_stall_started_ns = 0;
    std::int64_t last_stall_ns = 0;
    std::uint64_t last_stall_task_id = 0;
    int thread_id = 0;  // the kernel's id of the worker's thread; 0: not running
  };
  PollProbe poll_probe(std::size_t index) const noexcept;
  // On a worker thread (a signal handler may call it): when its current poll started, or 0.
  static std::int64_t current_poll_started_ns() noexcept;

 private:
  struct alignas(64) Worker {
    explicit Worker(Driver& driver) : parker(driver) {}
    // Owner-thread state.
    LocalQueue<TaskHeader> local;
    TaskHeader* lifo = nullptr;
    std::uint32_t tick = 0;
    // TickClock readings: the worker's last one (the start of the poll under way, the end of
    // the last run, or the first wake-up of a driver turn), and when the worker last polled the
    // driver between tasks (see kMinDriverPollGapNs).
    std::uint64_t last_tick = 0;
    std::uint64_t driver_polled_at = 0;
    // Only the poll under way, or taking the next task off a queue (this worker's, or a batch
    // of the injection queue's), has happened since last_tick: it serves as "now" for the next
    // run's start and for the wake stamps of the tasks made runnable meanwhile (worker_now). A
    // read of the cycle counter costs about as much as the rest of running an empty task's
    // poll.
    bool clock_fresh = false;
    std::uint64_t rng = 0;
    bool searching = false;
    bool running_task = false;
    // Inside parker.park(): what the driver or a timer wakes on this thread meanwhile lands in
    // this worker's queues, which it looks at when the park returns, so queueing it notifies
    // nobody (it would pick this worker, still on the sleepers list: an eventfd write and read
    // per wake-up for nothing).
    bool in_park = false;
    Parker parker;
    // Counters: written by the owner only (so a plain load+store, no locked add), read by
    // anyone taking a metrics snapshot.
    std::atomic<std::uint64_t> polls{0};
    std::atomic<std::uint64_t> steals{0};
    std::atomic<std::uint64_t> steal_operations{0};
    std::atomic<std::uint64_t> parks{0};
    std::atomic<std::uint64_t> busy_ns{0};
    std::atomic<std::uint64_t> spawned{0};
    std::atomic<std::uint64_t> completed{0};
    // For the stall monitor: the current poll's start and task (stored once per poll, as a
    // sequence lock: the start is 0 while the task changes); the stalls, each counted with a
    // release store after the last one's start, length and task (written by the owner only, and
    // only when a poll was a stall); the thread running the loop. The task's id lets a report
    // name the task even when the stuck thread cannot answer the backtrace signal in time (a
    // machine whose cores are all taken, a thread with the signal blocked).
    std::atomic<std::int64_t> poll_started_ns{0};
    std::atomic<std::uint64_t> polling_task_id{0};
    std::atomic<std::uint64_t> stalls{0};
    std::atomic<std::int64_t> last_stall_started_ns{0};
    std::atomic<std::int64_t> last_stall_ns{0};
    std::atomic<std::uint64_t> last_stall_task_id{0};
    std::atomic<int> thread_id{0};
    // Scheduling latency, recorded by the owner (fine clock, TickClock): each run's length, and
    // how long its task had been runnable before it.
    DurationRecorder poll_duration;
    DurationRecorder schedule_delay;
  };

  Worker* current_worker() const noexcept;
  // The worker's last clock reading while it is fresh, else a new one (see the .cpp).
  std::uint64_t worker_now(Worker& worker) noexcept;
  TaskHeader* next_task(Worker& worker);
  TaskHeader* steal_work(Worker& worker);
  void run_task(Worker& worker, TaskHeader* task);
  // Closes the worker's previous poll at `now` (counting it as a stall if it was long) and
  // starts the next one: what the stall detector costs a poll, one clock read and three stores.
  void start_poll(Worker& worker, std::int64_t now, std::uint64_t task_id) noexcept;
  void close_poll(Worker& worker, std::int64_t now) noexcept;
  // The worker stops polling (it parks or leaves the loop).
  void stop_polling(Worker& worker) noexcept;
  void push_local(Worker& worker, TaskHeader* task) noexcept;
  void push_inject(TaskHeader* task) noexcept;
  void park(Worker& worker, const std::atomic<bool>* until);
  void notify_parked() noexcept;
  void notify_if_work_pending() noexcept;
  bool should_stop(const std::atomic<bool>* until) const noexcept;

  std::vector<std::unique_ptr<Worker>> workers_;
  InjectQueue<TaskHeader> inject_;
  Idle idle_;
  OwnedTasks owned_;
  std::atomic<bool> stopping_{false};
  const std::int64_t stall_threshold_ns_;
  const bool latency_histograms_;
  const TickClock& clock_ = TickClock::get();
  // Spawns and completions that happen off the worker threads.
  std::atomic<std::uint64_t> spawned_elsewhere_{0};
  std::atomic<std::uint64_t> completed_elsewhere_{0};
};

}  // namespace brigade::runtime::detail
