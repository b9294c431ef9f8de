#include "idle.hpp"

#include <algorithm>

namespace brigade::runtime::detail {

Idle::Idle(std::size_t workers)
    : workers_(workers), state_(static_cast<std::uint32_t>(workers) << kUnparkedShift) {
  sleepers_.reserve(workers);
}

bool Idle::should_notify() const noexcept {
  const std::uint32_t state = state_.load(std::memory_order_seq_cst);
  return (state & kSearchingMask) == 0 && (state >> kUnparkedShift) < workers_;
}

std::optional<std::size_t> Idle::worker_to_notify() {
  // seq_cst pairs with the seq_cst in transition_to_parked: either the parking worker sees the
  // work we queued before calling this, or we see it parked.
  if (!should_notify()) return std::nullopt;
  std::lock_guard guard(sleepers_mutex_);
  if (!should_notify() || sleepers_.empty()) return std::nullopt;
  state_.fetch_add(1u | (1u << kUnparkedShift), std::memory_order_seq_cst);
  const std::size_t worker = sleepers_.back();
  sleepers_.pop_back();
  return worker;
}

bool Idle::transition_to_searching() noexcept {
  const std::uint32_t state = state_.load(std::memory_order_seq_cst);
  if (2 * (state & kSearchingMask) >= workers_) return false;
  state_.fetch_add(1, std::memory_order_seq_cst);
  return true;
}

bool Idle::transition_from_searching() noexcept {
  return (state_.fetch_sub(1, std::memory_order_seq_cst) & kSearchingMask) == 1;
}

bool Idle::transition_to_parked(std::size_t worker, bool was_searching) {
  std::lock_guard guard(sleepers_mutex_);
  const std::uint32_t dec = (1u << kUnparkedShift) | (was_searching ? 1u : 0u);
  const std::uint32_t prev = state_.fetch_sub(dec, std::memory_order_seq_cst);
  sleepers_.push_back(worker);
  return was_searching && (prev & kSearchingMask) == 1;
}

bool Idle::unpark_worker_by_id(std::size_t worker) {
  std::lock_guard guard(sleepers_mutex_);
  auto it = std::find(sleepers_.begin(), sleepers_.end(), worker);
  if (it == sleepers_.end()) return false;
  sleepers_.erase(it);
  state_.fetch_add(1u << kUnparkedShift, std::memory_order_seq_cst);
  return true;
}

bool Idle::is_parked(std::size_t worker) const {
  std::lock_guard guard(sleepers_mutex_);
  return std::find(sleepers_.begin(), sleepers_.end(), worker) != sleepers_.end();
}

std::size_t Idle::searching() const noexcept {
  return state_.load(std::memory_order_relaxed) & kSearchingMask;
}

std::vector<std::size_t> Idle::all_parked() const {
  std::lock_guard guard(sleepers_mutex_);
  return sleepers_;
}

}  // namespace brigade::runtime::detail
