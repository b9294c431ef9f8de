// Parking (parker.hpp, the real BasicParker on a stand-in driver) and the idle set (idle.cpp)
// under every interleaving of the workers going to sleep and a thread queueing work, or posting
// events that the driver dispatches on the thread parked in it: no wake-up is lost. The workers'
// loop below is scheduler.cpp's run_worker/park/notify_parked reduced to the injection queue
// (the local queues have their own test): the same calls in the same order.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "brigade/runtime/detail/sync_primitives.hpp"
#include "brigade_model/checker.hpp"
#include "idle.hpp"
#include "inject_queue.hpp"
#include "model_test_support.hpp"
#include "parker.hpp"

namespace brigade::runtime::detail {
namespace {

namespace model = brigade::model;

struct Node {
  Node* queue_next = nullptr;
};

// What the parker needs of the driver: one holder at a time, and a sleep that an unpark() ends
// even when it comes first (the eventfd's counter stays set until read). Events posted to it
// (I/O readiness) end the sleep too, and are handed to `dispatch` on the parked thread, as
// Driver::park wakes the tasks waiting on them.
class ModelDriver {
 public:
  bool try_lock() noexcept {
    bool expected = false;
    return held_.compare_exchange_strong(expected, true);
  }
  void unlock() noexcept { held_.store(false); }
  void park(std::optional<std::chrono::milliseconds> timeout) {
    std::vector<Node*> events;
    {
      std::unique_lock lock(mutex_);
      if (!timeout) condvar_.wait(lock, [&] { return woken_ || !events_.empty(); });
      woken_ = false;
      events.swap(events_);
    }
    for (Node* event : events) dispatch(event);
  }
  void unpark() noexcept {
    std::lock_guard guard(mutex_);
    woken_ = true;
    condvar_.notify_one();
  }
  void post(Node* event) {
    std::lock_guard guard(mutex_);
    events_.push_back(event);
    condvar_.notify_one();
  }

  std::function<void(Node*)> dispatch;

 private:
  sync::Atomic<bool> held_{false};
  sync::Mutex mutex_;
  sync::CondVar condvar_;
  bool woken_ = false;
  std::vector<Node*> events_;
};

using ModelParker = BasicParker<ModelDriver>;

TEST(ParkerModel, AnUnparkBeforeOrDuringParkEndsIt) {
  // Two owners share the driver, so one sleeps in it and the other on the condition variable.
  model::expect_every_interleaving_passes(
      [] {
        ModelDriver driver;
        ModelParker first(driver), second(driver);
        model::Thread waker([&] {
          first.unpark();
          second.unpark();
        });
        model::Thread first_owner([&] { first.park(); });
        second.park();
      },
      model::with_preemption_bound(3));
}

// The scheduler's parking protocol with the injection queue as the only queue.
class MiniScheduler {
 public:
  explicit MiniScheduler(std::size_t workers) : idle_(workers) {
    for (std::size_t i = 0; i < workers; ++i)
      parkers_.push_back(std::make_unique<ModelParker>(driver_));
    // On the worker parked in the driver (Worker::in_park): queued without notifying anyone.
    driver_.dispatch = [this](Node* node) {
      model::check(inject_.push(node), "the injection queue refused a task");
    };
  }

  // From outside the workers, as WorkStealingScheduler::push_inject.
  void push(Node* node) {
    model::check(inject_.push(node), "the injection queue refused a task");
    notify_parked();
  }

  // An I/O event whose task the driver wakes.
  void post_event(Node* node) { driver_.post(node); }

  // run_worker: run what there is, search (steal) when allowed, park when nothing is left.
  void run_worker(std::size_t index) {
    bool searching = false;
    while (!stopping_.load()) {
      Node* node = inject_.pop();
      if (node == nullptr && (searching || idle_.transition_to_searching())) {
        searching = true;
        node = inject_.pop();  // steal_work's last resort
      }
      if (node != nullptr) {
        if (std::exchange(searching, false) && idle_.transition_from_searching()) notify_parked();
        run(node);
        continue;
      }
      searching = park(index, searching);
    }
    if (searching && idle_.transition_from_searching()) notify_parked();
  }

  // stop_workers, once every task ran.
  void stop() {
    stopping_.store(true);
    for (auto& parker : parkers_) parker->unpark();
  }

  void wait_until_ran(int tasks) {
    std::unique_lock lock(mutex_);
    done_.wait(lock, [&] { return ran_ == tasks; });
  }

 private:
  void run(Node*) {
    std::lock_guard guard(mutex_);
    ++ran_;
    done_.notify_all();
  }

  // WorkStealingScheduler::park; returns whether the worker comes back searching.
  bool park(std::size_t index, bool was_searching) {
    if (idle_.transition_to_parked(index, was_searching)) notify_if_work_pending();
    for (;;) {
      parkers_[index]->park();
      const bool woke_work = !inject_.is_empty();
      if (stopping_.load() || woke_work) {
        const bool searching = !idle_.unpark_worker_by_id(index);
        if (woke_work) notify_parked();  // more than ours to run next: share it
        return searching;
      }
      if (!idle_.is_parked(index)) return true;  // woken by notify_parked, counted searching
    }
  }

  void notify_parked() {
    if (auto index = idle_.worker_to_notify()) parkers_[*index]->unpark();
  }

  void notify_if_work_pending() {
    if (!inject_.is_empty()) notify_parked();
  }

  ModelDriver driver_;
  std::vector<std::unique_ptr<ModelParker>> parkers_;
  InjectQueue<Node> inject_;
  Idle idle_;
  sync::Atomic<bool> stopping_{false};
  sync::Mutex mutex_;
  sync::CondVar done_;
  int ran_ = 0;
};

enum class Source { queue, driver_event };

// If a wake-up were lost, the task would sit in the queue with every worker asleep and
// wait_until_ran would never return: the checker reports that as a deadlock.
void queue_work_while_workers_park(std::size_t workers, int tasks, Source source = Source::queue) {
  MiniScheduler scheduler(workers);
  std::vector<Node> nodes(static_cast<std::size_t>(tasks));
  std::vector<std::unique_ptr<model::Thread>> threads;
  for (std::size_t i = 0; i < workers; ++i) {
    threads.push_back(
        std::make_unique<model::Thread>([&scheduler, i] { scheduler.run_worker(i); }));
  }
  model::Thread producer([&] {
    for (Node& node : nodes) {
      if (source == Source::queue) {
        scheduler.push(&node);
      } else {
        scheduler.post_event(&node);
      }
    }
  });
  scheduler.wait_until_ran(tasks);
  scheduler.stop();
}

TEST(IdleParkerModel, OneWorkerParksWhileATaskIsQueued) {
  model::expect_every_interleaving_passes([] { queue_work_while_workers_park(1, 1); },
                                          model::with_preemption_bound(3));
}

TEST(IdleParkerModel, TwoWorkersParkWhileATaskIsQueued) {
  model::expect_every_interleaving_passes([] { queue_work_while_workers_park(2, 1); },
                                          model::with_preemption_bound(2));
}

// The driver's wake-ups notify nobody while its worker is parked in it: that worker must find
// them when the park returns, and share them.
TEST(IdleParkerModel, OneWorkerRunsWhatTheDriverWokeWhileItWasParked) {
  model::expect_every_interleaving_passes(
      [] { queue_work_while_workers_park(1, 2, Source::driver_event); },
      model::with_preemption_bound(3));
}

TEST(IdleParkerModel, TwoWorkersRunWhatTheDriverWokeWhileOneWasParkedInIt) {
  model::expect_every_interleaving_passes(
      [] { queue_work_while_workers_park(2, 2, Source::driver_event); },
      model::with_preemption_bound(2));
}

}  // namespace
}  // namespace brigade::runtime::detail
