#pragma once

#include <atomic>
#include <cstddef>

namespace brigade::server::detail {

// The request-body bytes that all connections together may hold at once
// (ServerOptions::max_buffered_body_bytes). A request takes its share before its body is read
// and gives it back once it has been answered; one that does not fit is refused with 503.
class BodyBudget {
 public:
  explicit BodyBudget(std::size_t limit) noexcept : limit_(limit) {}
  BodyBudget(const BodyBudget&) = delete;
  BodyBudget& operator=(const BodyBudget&) = delete;

  // Takes `bytes` if they fit under the limit.
  bool try_take(std::size_t bytes) noexcept {
    std::size_t used = used_.load(std::memory_order_relaxed);
    do {
      if (bytes > limit_ - used) return false;
    } while (!used_.compare_exchange_weak(used, used + bytes, std::memory_order_relaxed));
    return true;
  }
  void give_back(std::size_t bytes) noexcept { used_.fetch_sub(bytes, std::memory_order_relaxed); }
  std::size_t used() const noexcept { return used_.load(std::memory_order_relaxed); }

 private:
  const std::size_t limit_;
  std::atomic<std::size_t> used_{0};
};

// One request's share of the BodyBudget, given back when released or destroyed.
class BodyReservation {
 public:
  explicit BodyReservation(BodyBudget& budget) noexcept : budget_(budget) {}
  BodyReservation(const BodyReservation&) = delete;
  BodyReservation& operator=(const BodyReservation&) = delete;
  ~BodyReservation() { release(); }

  // Grows the share to `total` bytes (a smaller total changes nothing); false if the budget
  // cannot take the difference.
  bool grow_to(std::size_t total) noexcept {
    if (total <= bytes_) return true;
    if (!budget_.try_take(total - bytes_)) return false;
    bytes_ = total;
    return true;
  }
  void release() noexcept {
    budget_.give_back(bytes_);
    bytes_ = 0;
  }
  std::size_t bytes() const noexcept { return bytes_; }

 private:
  BodyBudget& budget_;
  std::size_t bytes_ = 0;
};

}  // namespace brigade::server::detail
