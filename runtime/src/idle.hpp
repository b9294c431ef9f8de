#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <vector>

namespace brigade::runtime::detail {

// Which workers are parked and how many are searching for work (Tokio's `Idle`). Limiting the
// searchers to half the workers keeps a burst of wake-ups from turning into a stampede of
// stealers, and waking a sleeper only when nobody is searching keeps wake-ups cheap.
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
  std::atomic<std::uint32_t> state_;
  mutable std::mutex sleepers_mutex_;
  std::vector<std::size_t> sleepers_;
};

}  // namespace brigade::runtime::detail
