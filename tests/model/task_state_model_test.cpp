// A task's scheduling state (task_header.cpp) under every interleaving of the worker that runs
// it, a thread that wakes it, a thread that aborts it and a task that joins it: the real
// TaskCell, JoinHandle and TaskHeader, on a one-worker model scheduler. Whatever the order:
// the task body resumes at most once and exactly when it was not cancelled first, the task
// completes once, its joiner resumes once, and every cell and frame is freed exactly once.
#include <gtest/gtest.h>

#include <algorithm>
#include <coroutine>
#include <cstdlib>
#include <deque>
#include <mutex>
#include <set>
#include <source_location>
#include <utility>

#include "brigade/runtime/coop.hpp"
#include "brigade/runtime/detail/sync_primitives.hpp"
#include "brigade/runtime/detail/task_cell.hpp"
#include "brigade/runtime/join_handle.hpp"
#include "brigade/runtime/task.hpp"
#include "brigade_model/checker.hpp"
#include "model_test_support.hpp"

namespace brigade::runtime::detail {

// Cells and frames come from here instead of frame_allocator.cpp, so the test sees each one
// freed exactly once.
namespace {
std::set<void*>& live_blocks() {
  static std::set<void*> blocks;
  return blocks;
}
}  // namespace

void* allocate_frame(std::size_t size) {
  void* block = std::malloc(size);
  if (block == nullptr) throw std::bad_alloc();
  live_blocks().insert(block);
  return block;
}

void deallocate_frame(void* block, std::size_t) noexcept {
  model::check(live_blocks().erase(block) == 1, "a task cell or frame was freed twice");
  std::free(block);
}

void coop::count_forced_yield() noexcept {}

namespace {

namespace model = brigade::model;

// One worker's run queue: what the work-stealing scheduler does with a task, without the
// stealing. It checks that a task is never queued twice. (With one worker a task queued while it
// runs would run again after: the body's resume count catches that.)
class ModelScheduler final : public Scheduler {
 public:
  void schedule(TaskHeader* task) noexcept override {
    std::lock_guard guard(mutex_);
    model::check(std::find(queue_.begin(), queue_.end(), task) == queue_.end(),
                 "a task was queued twice");
    queue_.push_back(task);
    ready_.notify_one();
  }

  void task_completed(TaskHeader* task) noexcept override {
    ++completions_;
    task->unref();  // the owner's reference (the runtime's list of tasks)
  }

  // The worker: runs queued tasks until stop() and the queue is empty.
  void work() {
    for (;;) {
      TaskHeader* task = nullptr;
      {
        std::unique_lock lock(mutex_);
        ready_.wait(lock, [&] { return !queue_.empty() || stopping_; });
        if (queue_.empty()) return;
        task = queue_.front();
        queue_.pop_front();
      }
      if (task->run()) {
        schedule(task);
      } else {
        task->unref();  // the run queue's reference
      }
    }
  }

  void stop() {
    std::lock_guard guard(mutex_);
    stopping_ = true;
    ready_.notify_all();
  }

  int completions() const { return completions_; }

 private:
  sync::Mutex mutex_;
  sync::CondVar ready_;
  std::deque<TaskHeader*> queue_;
  bool stopping_ = false;
  int completions_ = 0;
};

// A resource with one waiter, following the Waiter rules of task_header.hpp: wake under the
// resource's lock; an awaiter destroyed unresumed unlinks itself under it, then forget()s.
class Event {
 public:
  void fire() {
    std::lock_guard guard(mutex_);
    fired_ = true;
    if (Waiter* waiter = std::exchange(waiter_, nullptr)) waiter->task->wake(*waiter);
  }

  class Awaiter {
   public:
    explicit Awaiter(Event& event) noexcept : event_(event) {}
    Awaiter(const Awaiter&) = delete;
    Awaiter& operator=(const Awaiter&) = delete;
    ~Awaiter() {
      if (!registered_) return;
      {
        std::lock_guard guard(event_.mutex_);
        if (event_.waiter_ == &waiter_) event_.waiter_ = nullptr;
      }
      waiter_.task->forget(waiter_);
    }
    bool await_ready() const noexcept { return false; }
    bool await_suspend(std::coroutine_handle<> handle) {
      waiter_.task = &expect_current_task();
      waiter_.handle = handle;
      std::lock_guard guard(event_.mutex_);
      if (event_.fired_) return false;
      event_.waiter_ = &waiter_;
      registered_ = true;
      return true;
    }
    void await_resume() noexcept { registered_ = false; }

   private:
    Event& event_;
    Waiter waiter_;
    bool registered_ = false;
  };
  Awaiter operator co_await() noexcept { return Awaiter(*this); }

 private:
  sync::Mutex mutex_;
  Waiter* waiter_ = nullptr;
  bool fired_ = false;
};

Task<void> wait_for_event(Event& event, int& resumed) {
  co_await event;
  ++resumed;
}

struct JoinSeen {
  int joins = 0;
  bool cancelled = false;
};

Task<void> join_task(JoinHandle<void> handle, JoinSeen& seen) {
  auto outcome = co_await handle;
  ++seen.joins;
  seen.cancelled = !outcome.has_value() && outcome.error().is_cancelled();
}

// What spawn() does: a cell holding three references (handle, owner, run queue), queued.
template <class T>
TaskCell<T>* spawn_on(ModelScheduler& scheduler, Task<T> task) {
  auto* cell = make_cell<TaskCell<T>>(std::move(task), &scheduler, std::source_location::current());
  scheduler.schedule(cell);
  return cell;
}

model::Options options(int preemption_bound) {
  model::Options result = model::with_preemption_bound(preemption_bound);
  result.thread_locals = {{&current_task, sizeof current_task},
                          {&coop::budget, sizeof coop::budget}};
  return result;
}

// The body of every test here: a task waiting for an event, a joiner, a worker, and a thread
// that fires the event and one that aborts the task (when asked to) racing them.
void run_scenario(bool fire, bool abort) {
  live_blocks().clear();
  ModelScheduler scheduler;
  Event event;
  int resumed = 0;
  JoinSeen seen;
  TaskCell<void>* target = spawn_on(scheduler, wait_for_event(event, resumed));
  target->ref();                                                            // the aborter's
  spawn_on(scheduler, join_task(JoinHandle<void>(target), seen))->unref();  // detached joiner
  {
    model::Thread worker([&] { scheduler.work(); });
    {
      model::Thread waker([&] {
        if (fire) event.fire();
      });
      model::Thread aborter([&] {
        if (abort) target->abort();
        target->unref();
      });
    }
    scheduler.stop();
  }
  model::check(scheduler.completions() == 2, "a task did not complete exactly once");
  model::check(seen.joins == 1, "the joiner did not resume exactly once");
  model::check(resumed <= 1, "the task body resumed twice");
  model::check(seen.cancelled == (resumed == 0), "the outcome does not match what the body did");
  if (!abort) model::check(resumed == 1, "a woken task that nobody aborted did not run");
  model::check(live_blocks().empty(), "a task cell or frame was never freed");
}

TEST(TaskStateModel, WakeRacesRunAndJoin) {
  model::expect_every_interleaving_passes([] { run_scenario(true, false); }, options(3));
}

TEST(TaskStateModel, AbortRacesRunAndJoin) {
  model::expect_every_interleaving_passes([] { run_scenario(false, true); }, options(3));
}

TEST(TaskStateModel, WakeAndAbortRaceRunAndJoin) {
  model::expect_every_interleaving_passes([] { run_scenario(true, true); }, options(2));
}

}  // namespace
}  // namespace brigade::runtime::detail
