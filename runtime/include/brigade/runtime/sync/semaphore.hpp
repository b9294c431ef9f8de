#pragma once

#include <coroutine>
#include <cstddef>
#include <expected>
#include <limits>
#include <mutex>
#include <optional>

#include "brigade/runtime/detail/wait_list.hpp"

namespace brigade::runtime {

class Semaphore;

// acquire() on a closed semaphore. The permits of a closed semaphore are still counted (releasing
// adds them back), but no acquirer gets them any more.
struct AcquireError {
  friend bool operator==(AcquireError, AcquireError) = default;
};

// Permits taken from a Semaphore, given back when the permit is destroyed. Move-only. The
// semaphore must outlive its permits.
class [[nodiscard]] SemaphorePermit {
 public:
  SemaphorePermit() noexcept = default;
  SemaphorePermit(SemaphorePermit&& other) noexcept;
  SemaphorePermit& operator=(SemaphorePermit&& other) noexcept;
  ~SemaphorePermit();

  // How many permits this holds (0 once moved from or forgotten).
  std::size_t count() const noexcept { return count_; }
  // Keeps the permits taken for good: the semaphore's capacity shrinks by count().
  void forget() noexcept { count_ = 0; }

 private:
  friend class Semaphore;
  SemaphorePermit(Semaphore* semaphore, std::size_t count) noexcept
      : semaphore_(semaphore), count_(count) {}

  Semaphore* semaphore_ = nullptr;
  std::size_t count_ = 0;
};

// An async counting semaphore, like tokio::sync::Semaphore.
//
// Fair: acquirers are served strictly in arrival order, and a request for many permits at the
// head of the queue holds back later, smaller requests (permits released meanwhile are set aside
// for the head until it has all it asked for), so large requests cannot starve.
//
// Thread-safe. The semaphore must outlive every awaiter and permit taken from it.
class Semaphore {
  enum class Outcome : unsigned char { pending, granted, closed };

  // An acquirer: how many permits it wants, how many were set aside for it so far, and how it
  // ended. Lives in the Acquire awaiter; queued in waiters_ while it waits.
  struct AcquireNode : detail::WaitNode {
    std::size_t wanted = 0;
    std::size_t assigned = 0;
    Outcome outcome = Outcome::pending;
  };

 public:
  // The most permits a semaphore can hold (as in Tokio, a few top bits are kept free).
  static constexpr std::size_t kMaxPermits = std::numeric_limits<std::size_t>::max() >> 3;

  // Throws std::invalid_argument if `permits` exceeds kMaxPermits.
  explicit Semaphore(std::size_t permits);
  Semaphore(const Semaphore&) = delete;
  Semaphore& operator=(const Semaphore&) = delete;
  ~Semaphore() = default;

  // The awaiter of acquire(): completes with a permit holding `n` permits once they are all
  // available and every earlier acquirer was served, or with AcquireError if the semaphore is
  // (or gets) closed. Destroying it while it waits (its task was aborted, or it lost a select)
  // leaves the queue and gives back any permits already set aside for it. Movable until awaited.
  class [[nodiscard]] Acquire {
   public:
    Acquire(Acquire&& other) noexcept;
    Acquire(const Acquire&) = delete;
    Acquire& operator=(const Acquire&) = delete;
    Acquire& operator=(Acquire&&) = delete;
    ~Acquire();

    bool await_ready() const noexcept { return false; }
    // Takes the permits at once when it can (no suspension); else joins the queue.
    bool await_suspend(std::coroutine_handle<> awaiting) noexcept;
    std::expected<SemaphorePermit, AcquireError> await_resume() noexcept;

   private:
    friend class Semaphore;
    Acquire(Semaphore& semaphore, std::size_t n) noexcept;

    Semaphore* semaphore_;
    AcquireNode node_;
    bool suspended_ = false;  // queued, so the destructor may have to leave the queue
    bool resumed_ = false;
  };

  // Waits for `n` permits (n may be 0: that only waits for the queue ahead to clear).
  Acquire acquire(std::size_t n = 1) noexcept { return Acquire(*this, n); }
  // `n` permits now, or nullopt if they are not available, someone is queued ahead, or the
  // semaphore is closed.
  std::optional<SemaphorePermit> try_acquire(std::size_t n = 1) noexcept;

  // Adds `n` permits, handing them to queued acquirers first (release() is the same). Terminates
  // if the count would exceed kMaxPermits, as Tokio panics: that many is always a bug.
  void add_permits(std::size_t n) noexcept;
  void release(std::size_t n) noexcept { add_permits(n); }

  // Permits that nobody holds or is being handed (0 whenever acquirers are queued).
  std::size_t available_permits() const noexcept;

  // Fails every queued acquire with AcquireError, and every later acquire and try_acquire.
  // Permits already held stay valid and are still given back on release.
  void close() noexcept;
  bool is_closed() const noexcept;

 private:
  // Hands available permits to the head of the queue, waking each acquirer that is now whole.
  void serve_waiters_locked() noexcept;
  void add_permits_locked(std::size_t n) noexcept;

  mutable std::mutex mutex_;
  std::size_t available_;     // guarded by mutex_; 0 while the queue is non-empty
  bool closed_ = false;       // guarded by mutex_
  detail::WaitList waiters_;  // of AcquireNode; guarded by mutex_
};

}  // namespace brigade::runtime
