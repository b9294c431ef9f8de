#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <string>
#include <vector>

namespace brigade::app {

// A bounded queue of finished log lines between the worker threads (push) and one writer thread
// (take), bounded twice: in lines, and in bytes (a line may carry a 64 KiB target). A push holds
// the mutex for a move into a preallocated slot: no allocation, no I/O, no system call. The writer
// is woken only when the queue reaches half its capacity or is closed; otherwise it comes back on
// its own every flush interval, so a request never pays for a wake-up.
class LineQueue {
 public:
  enum class Pushed : unsigned char { queued, dropped };

  LineQueue(std::size_t capacity, std::size_t max_bytes);
  LineQueue(const LineQueue&) = delete;
  LineQueue& operator=(const LineQueue&) = delete;

  // From any thread. `dropped` when the queue is full (in lines or in bytes) or closed: the line
  // is not kept.
  Pushed push(std::string&& line);

  // From the writer: waits until the queue is half full, closed, or `interval` has passed, then
  // moves every queued line, oldest first, to the end of `into` (which should have room for
  // capacity() lines, so nothing is allocated under the lock). False once the queue is closed
  // and empty: nothing will come any more.
  bool take(std::vector<std::string>& into, std::chrono::milliseconds interval);

  // Refuses further lines and wakes the writer, which takes what is left.
  void close();

  std::size_t capacity() const noexcept { return slots_.size(); }

 private:
  std::mutex mutex_;
  std::condition_variable wake_;
  std::vector<std::string> slots_;  // a ring: the oldest line at head_, size_ of them
  std::size_t head_ = 0;
  std::size_t size_ = 0;
  std::size_t bytes_ = 0;  // of the queued lines
  const std::size_t max_bytes_;
  bool closed_ = false;
};

}  // namespace brigade::app
