// Which workers are parked and how many are searching for work (Tokio's `Idle`).
//
// The protocol. `state_` packs two counts in one word so both move together: workers searching
// for work (stealing) and workers not parked. `sleepers_`, under its mutex, lists the parked ones.
//  - A worker about to park calls transition_to_parked (it joins the sleepers and leaves both
//    counts in one step, under the mutex), then checks every queue once more before it sleeps
//    (the scheduler's notify_if_work_pending when it was the last searcher, and its own queue
//    after every wake-up).
//  - A thread that queued work calls worker_to_notify afterwards: when nobody searches and
//    someone sleeps, it takes a sleeper off the list, counts it as searching and unparks it.
//    The one exception is a worker parked in the driver, queueing the tasks the driver wakes on
//    its own thread: it looks at the queues itself when its park returns, leaves the list, and
//    only then notifies, for a sleeper to share the work (scheduler.cpp, Worker::in_park).
// Every step is sequentially consistent, so of "queue work, then look at the sleepers" and
// "join the sleepers, then look at the queues" one sees the other: either the parking worker
// finds the work, or the queuer finds it on the list and wakes it (the Parker keeps a wake-up
// that arrives before the sleep). Limiting searchers to half the workers keeps a burst of
// wake-ups from becoming a stampede of stealers; waking only when nobody searches keeps them
// cheap, because a searcher that finds work wakes the next one (transition_from_searching).
#pragma once

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <vector>

#include "brigade/runtime/detail/sync_primitives.hpp"

namespace brigade::runtime::detail {

class Idle {
 public:
  explicit Idle(std::size_t workers);

  // A worker to unpark because new work is waiting and nobody is searching; it starts searching.
  std::optional<std::size_t> worker_to_notify();
  // Returns false when enough workers are searching already.
  bool transition_to_searching() noexcept;
  // Returns true when this was the last searcher: it must then make sure queued work is noticed.
  bool transition_from_searching() noexcept;
  // Returns true when the parking worker was the last searcher.
  bool transition_to_parked(std::size_t worker, bool was_searching);
  // The worker stops parking on its own (it found work in its queue, or must stop). Returns false
  // if it was no longer on the sleepers list: a notifier took it off and counted it as searching.
  bool unpark_worker_by_id(std::size_t worker);
  bool is_parked(std::size_t worker) const;
  std::size_t searching() const noexcept;
  std::vector<std::size_t> all_parked() const;

 private:
  // Low half: searching workers; high half: unparked workers. One word so both move together.
  static constexpr std::uint32_t kUnparkedShift = 16;
  static constexpr std::uint32_t kSearchingMask = (1u << kUnparkedShift) - 1;

  bool should_notify() const noexcept;

  const std::size_t workers_;
  sync::Atomic<std::uint32_t> state_;
  mutable sync::Mutex sleepers_mutex_;
  std::vector<std::size_t> sleepers_;
};

}  // namespace brigade::runtime::detail
