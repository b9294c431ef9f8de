// The blocking pool's protocol: how threads come and go around the keep-alive without
// stranding a job.
//
// One mutex guards the queue and the counts of threads by what they do (busy or starting, idle,
// notified, exiting). A submit, under that mutex, either claims an idle thread (moves it from
// idle to notified, then signals the condition variable), or starts a new thread, or, when
// max_threads are all busy, leaves the job for the first of them to come back. An idle thread
// waits with the keep-alive as its deadline; when the wait ends, still under the mutex, a claim
// wins over the deadline: if any thread is notified it answers the claim and returns to the
// queue; only when none is does a timed-out thread leave the counts and exit. So a submit racing
// a timeout either finds the thread still idle (and claims it, which the thread honours) or
// finds it gone from the counts (and starts another). Threads take jobs only under the mutex,
// so each job runs once. shutdown() takes the queue, cancels what never started and waits on
// a second condition variable for the threads to leave. tests/model/blocking_pool_model_test.cpp
// checks this with the timeout happening at every possible point.
#include "blocking_pool.hpp"

#include <pthread.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <exception>
#include <map>
#include <mutex>
#include <utility>

#include "brigade/runtime/detail/frame_allocator.hpp"
#include "brigade/runtime/detail/sync_primitives.hpp"
#include "brigade/runtime/detail/tick_clock.hpp"
#include "cpu_affinity.hpp"
#include "duration_recorder.hpp"

namespace brigade::runtime::detail {
namespace {

using Clock = std::chrono::steady_clock;

void name_this_thread(const std::string& name) noexcept {
  char truncated[16] = {};  // Linux: 15 characters and the terminator
  name.copy(truncated, sizeof truncated - 1);
  pthread_setname_np(pthread_self(), truncated);
}

// Linux applies a nice value to the one thread named by its id (POSIX would have it per process).
// Raising it needs no privilege; a failure leaves the thread at its inherited priority.
void renice_this_thread(int increment) noexcept {
  if (increment == 0) return;
  const auto self = static_cast<id_t>(::gettid());
  errno = 0;
  const int current = ::getpriority(PRIO_PROCESS, self);
  if (current == -1 && errno != 0) return;
  static_cast<void>(::setpriority(PRIO_PROCESS, self, std::min(current + increment, 19)));
}

// now + wait, saturated: a keep-alive meaning "forever" must not overflow the clock.
Clock::time_point deadline_after(std::chrono::milliseconds wait) noexcept {
  const auto now = Clock::now();
  const auto room =
      std::chrono::duration_cast<std::chrono::milliseconds>(Clock::time_point::max() - now);
  return wait >= room ? Clock::time_point::max() : now + wait;
}

// Finishes a task that will never start: abort() only records the request on a queued cell, and
// run() turns it into a "cancelled" outcome and wakes the joiner. Then drops the queue's reference.
void cancel(TaskHeader* task) noexcept {
  task->abort();
  task->run();
  task->unref();
}

}  // namespace

// The pool whose thread this is, so that shutdown() from a closure does not wait for itself.
// Outside the anonymous namespace so that the model checker can give each model thread its own.
thread_local const void* blocking_pool_of_this_thread = nullptr;

// Everything the pool threads touch. They each hold a shared_ptr to it, so it outlives the
// BlockingPool when a shutdown deadline leaves threads behind.
class BlockingPool::Shared : public std::enable_shared_from_this<Shared> {
 public:
  explicit Shared(Options options) : options_(std::move(options)) {
    options_.max_threads = std::max<std::size_t>(options_.max_threads, 1);
  }

  bool submit(TaskHeader* task, bool enforce_limit) noexcept;
  void shutdown(std::optional<Clock::time_point> deadline) noexcept;
  const Options& options() const noexcept { return options_; }

  // Copies of the guarded counters, so metric readers never take the lock.
  std::atomic<std::size_t> threads_metric{0};
  std::atomic<std::size_t> idle_metric{0};
  std::atomic<std::size_t> queue_metric{0};
  std::atomic<std::uint64_t> spawned_total{0};
  std::atomic<std::uint64_t> rejected_total{0};
  // From submit to a thread taking the task; recorded under mutex_, so one writer at a time.
  DurationRecorder queue_wait;

 private:
  void run_thread(std::uint64_t id) noexcept;
  bool wait_for_work(std::unique_lock<sync::Mutex>& lock) noexcept;
  bool spawn_thread_locked() noexcept;
  void push_locked(TaskHeader* task) noexcept;
  TaskHeader* pop_locked() noexcept;
  std::size_t backlog_locked() const noexcept;
  void publish_locked() noexcept;

  Options options_;  // read-only once constructed
  const TickClock& clock_ = TickClock::get();

  sync::Mutex mutex_;             // guards everything below
  sync::CondVar work_available_;  // idle threads wait here
  sync::CondVar thread_exited_;   // shutdown() waits here
  TaskHeader* head_ = nullptr;    // FIFO, linked through TaskHeader::queue_next
  TaskHeader* tail_ = nullptr;
  std::size_t queued_ = 0;
  // Every thread is in exactly one of: busy or starting (threads_ - idle_ - notified_), idle
  // (idle_: waiting, free to be claimed), notified (notified_: claimed by a submit, not yet awake),
  // or exiting (exiting_: left the pool, still running on_thread_stop).
  std::size_t threads_ = 0;   // serving the queue; what max_threads bounds
  std::size_t starting_ = 0;  // of threads_, created but not yet at the queue
  std::size_t idle_ = 0;
  std::size_t notified_ = 0;
  std::size_t exiting_ = 0;
  bool shut_down_ = false;
  // Handles of threads that have not exited. An exiting thread cannot join itself, so it parks its
  // handle in last_exited_ and joins the one parked before it; shutdown() joins the last one.
  std::uint64_t next_thread_id_ = 0;
  std::map<std::uint64_t, sync::Thread> handles_;
  sync::Thread last_exited_;
};

bool BlockingPool::Shared::submit(TaskHeader* task, bool enforce_limit) noexcept {
  std::unique_lock lock(mutex_);
  if (shut_down_) return false;
  const bool wake_idle = idle_ > 0;
  if (wake_idle) {
    // Claim the thread now: a second submit before it wakes must look for another.
    --idle_;
    ++notified_;
  } else if (threads_ >= options_.max_threads || !spawn_thread_locked()) {
    // Every thread is busy and no new one can start: the task waits for one to come back.
    if (threads_ == 0) return false;  // no thread at all (creation failed): it would never run
    if (enforce_limit && options_.queue_limit && backlog_locked() >= *options_.queue_limit) {
      return false;
    }
  }
  push_locked(task);
  publish_locked();
  lock.unlock();
  // One wake-up per task, so a burst does not stampede every idle thread; sent after unlocking so
  // the woken thread does not block on our mutex.
  if (wake_idle) work_available_.notify_one();
  return true;
}

bool BlockingPool::Shared::spawn_thread_locked() noexcept {
  const std::uint64_t id = next_thread_id_++;
  auto slot = handles_.end();
  try {
    slot = handles_.try_emplace(id).first;
    // The new thread's first step is to lock mutex_, held by our caller, so it cannot look for its
    // handle before the handle is stored.
    slot->second = sync::Thread([self = shared_from_this(), id] { self->run_thread(id); });
  } catch (const std::exception&) {  // std::system_error: no thread; std::bad_alloc: no slot
    if (slot != handles_.end()) handles_.erase(slot);
    return false;
  }
  ++threads_;
  ++starting_;
  return true;
}

void BlockingPool::Shared::run_thread(std::uint64_t id) noexcept {
  name_this_thread(options_.thread_name);
  // Checked against the process's CPUs when the runtime was built; should a cpuset shrink since
  // then, the thread keeps its creator's CPUs rather than not start.
  pin_this_thread(options_.cpus);
  renice_this_thread(options_.nice);
  stop_caching_frames_on_this_thread();
  blocking_pool_of_this_thread = this;
  if (options_.on_thread_start) options_.on_thread_start();

  std::unique_lock lock(mutex_);
  --starting_;
  for (;;) {
    if (TaskHeader* task = pop_locked()) {
      publish_locked();
      lock.unlock();
      // A BlockingCell never asks to be run again: the queue's reference is ours to drop.
      task->run();
      task->unref();
      lock.lock();
    } else if (shut_down_ || !wait_for_work(lock)) {
      break;
    }
  }
  --threads_;
  ++exiting_;
  publish_locked();
  lock.unlock();

  if (options_.on_thread_stop) options_.on_thread_stop();
  blocking_pool_of_this_thread = nullptr;

  lock.lock();
  --exiting_;
  sync::Thread previous;
  // Absent when shutdown() has already detached it after its deadline.
  if (auto it = handles_.find(id); it != handles_.end()) {
    previous = std::exchange(last_exited_, std::move(it->second));
    handles_.erase(it);
  }
  thread_exited_.notify_all();
  lock.unlock();
  // It has left its last critical section, so this join is short.
  if (previous.joinable()) previous.join();
}

// Waits, counted idle, until a submit claims this thread, shutdown starts or keep_alive passes.
// Returns false when the thread should exit. The decision is taken under the lock that submit
// takes, so a submit either claims this thread before it gives up or sees it gone and starts
// another: no task is left queued with no thread to run it.
bool BlockingPool::Shared::wait_for_work(std::unique_lock<sync::Mutex>& lock) noexcept {
  ++idle_;
  publish_locked();
  const auto give_up_at = deadline_after(options_.keep_alive);
  for (;;) {
    const bool timed_out = work_available_.wait_until(lock, give_up_at) == std::cv_status::timeout;
    if (notified_ > 0) {
      // Waiting threads are interchangeable: whichever wakes first answers the claim (its submit
      // already took one thread off idle_).
      --notified_;
      return true;
    }
    if (shut_down_ || timed_out) {
      --idle_;
      publish_locked();
      return false;
    }
    // A spurious wake-up: keep waiting until the same deadline.
  }
}

void BlockingPool::Shared::push_locked(TaskHeader* task) noexcept {
  task->runnable_since = clock_.now();
  task->queue_next = nullptr;
  (tail_ != nullptr ? tail_->queue_next : head_) = task;
  tail_ = task;
  ++queued_;
}

TaskHeader* BlockingPool::Shared::pop_locked() noexcept {
  TaskHeader* task = head_;
  if (task == nullptr) return nullptr;
  head_ = std::exchange(task->queue_next, nullptr);
  if (head_ == nullptr) tail_ = nullptr;
  --queued_;
  queue_wait.record(clock_.elapsed_ns(task->runnable_since, clock_.now()));
  return task;
}

// Queued tasks that no thread is on its way to (a claimed idle thread or a starting one will take
// one each), i.e. the tasks that are really waiting for a busy thread to come back.
std::size_t BlockingPool::Shared::backlog_locked() const noexcept {
  const std::size_t on_the_way = notified_ + starting_;
  return queued_ > on_the_way ? queued_ - on_the_way : 0;
}

void BlockingPool::Shared::publish_locked() noexcept {
  threads_metric.store(threads_, std::memory_order_relaxed);
  idle_metric.store(idle_, std::memory_order_relaxed);
  queue_metric.store(queued_, std::memory_order_relaxed);
}

void BlockingPool::Shared::shutdown(std::optional<Clock::time_point> deadline) noexcept {
  TaskHeader* unstarted = nullptr;
  {
    std::lock_guard guard(mutex_);
    if (shut_down_) return;
    shut_down_ = true;
    unstarted = std::exchange(head_, nullptr);
    tail_ = nullptr;
    queued_ = 0;
    publish_locked();
  }
  work_available_.notify_all();  // idle threads exit now rather than at their keep-alive
  while (unstarted != nullptr) {
    TaskHeader* next = std::exchange(unstarted->queue_next, nullptr);
    cancel(unstarted);
    unstarted = next;
  }

  std::unique_lock lock(mutex_);
  const std::size_t own_thread = blocking_pool_of_this_thread == this ? 1 : 0;
  const auto all_exited = [&] { return threads_ + exiting_ == own_thread; };
  bool exited = true;
  if (deadline) {
    exited = thread_exited_.wait_until(lock, *deadline, all_exited);
  } else {
    thread_exited_.wait(lock, all_exited);
  }
  // Exiting threads find their handle gone from now on and leave last_exited_ alone.
  auto handles = std::exchange(handles_, {});
  sync::Thread last = std::exchange(last_exited_, {});
  lock.unlock();

  const auto finish = [exited](sync::Thread& thread) {
    // Past the deadline, busy threads are left to finish on their own; they keep this state
    // alive. Our own thread (shutdown from a closure) cannot join itself either.
    if (exited && thread.get_id() != sync::this_thread_id()) {
      thread.join();
    } else {
      thread.detach();
    }
  };
  if (last.joinable()) finish(last);
  for (auto& [id, thread] : handles) finish(thread);
}

BlockingPool::BlockingPool(Options options)
    : shared_(std::make_shared<Shared>(std::move(options))) {}

BlockingPool::~BlockingPool() { shutdown(std::nullopt); }

bool BlockingPool::submit(TaskHeader* task) noexcept {
  const bool accepted = shared_->submit(task, /*enforce_limit=*/true);
  (accepted ? shared_->spawned_total : shared_->rejected_total)
      .fetch_add(1, std::memory_order_relaxed);
  return accepted;
}

void BlockingPool::shutdown(
    std::optional<std::chrono::steady_clock::time_point> deadline) noexcept {
  shared_->shutdown(deadline);
}

std::size_t BlockingPool::threads() const noexcept {
  return shared_->threads_metric.load(std::memory_order_relaxed);
}

std::size_t BlockingPool::idle_threads() const noexcept {
  return shared_->idle_metric.load(std::memory_order_relaxed);
}

std::size_t BlockingPool::queue_depth() const noexcept {
  return shared_->queue_metric.load(std::memory_order_relaxed);
}

std::uint64_t BlockingPool::spawned_total() const noexcept {
  return shared_->spawned_total.load(std::memory_order_relaxed);
}

std::uint64_t BlockingPool::rejected_total() const noexcept {
  return shared_->rejected_total.load(std::memory_order_relaxed);
}

DurationHistogram BlockingPool::queue_wait() const noexcept {
  DurationHistogram histogram;
  shared_->queue_wait.add_to(histogram);
  return histogram;
}

void BlockingPool::schedule(TaskHeader* task) noexcept {
  if (shared_->submit(task, /*enforce_limit=*/false)) return;
  cancel(task);  // shut down, or no thread can run it: finish it rather than leak it
}

void BlockingPool::task_completed(TaskHeader* /*task*/) noexcept {
  if (shared_->options().on_task_completed) shared_->options().on_task_completed();
}

}  // namespace brigade::runtime::detail
