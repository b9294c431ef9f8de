#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <expected>
#include <memory>
#include <string>
#include <string_view>
#include <thread>

#include "line_queue.hpp"

namespace brigade::app {

// The access log's writer thread: workers submit finished lines, which a LineQueue carries to a
// thread of its own that writes them in batches. A worker never waits for the destination: when
// the queue is full (the destination is slower than the requests, or stuck), the line is dropped
// and counted. Memory is bounded: capacity lines and capacity × kBytesPerLine bytes queued, as
// much again in the batch being written. Owns its thread: close() (or the destructor) writes what
// is queued, within kFinalFlushLimit, then joins.
class AccessLogWriter {
 public:
  // How long the writer waits for the queue to fill to half before it writes what it has.
  static constexpr std::chrono::milliseconds kFlushInterval{100};
  // At close: how long the lines still queued may take to be written before they are dropped
  // (a destination nobody reads must not hold up the process's exit).
  static constexpr std::chrono::milliseconds kFinalFlushLimit{2'000};
  // The queue holds at most this many bytes per line of capacity: a typical line is 250 to 300
  // bytes, and a long target or user agent must not make the queue's memory unbounded.
  static constexpr std::size_t kBytesPerLine = 512;

  // "stdout" (file descriptor 1, not closed here) or a file path, opened for appending (created
  // if missing, 0644). The error says why the file cannot be opened.
  static std::expected<std::unique_ptr<AccessLogWriter>, std::string> open(
      std::string_view destination, std::size_t capacity);

  // Writes to `fd`, closing it at the end when `owns_fd`.
  AccessLogWriter(int fd, bool owns_fd, std::size_t capacity);
  AccessLogWriter(const AccessLogWriter&) = delete;
  AccessLogWriter& operator=(const AccessLogWriter&) = delete;
  ~AccessLogWriter();

  // From any thread; `line` ends with its newline. Counted as written once it is, or as dropped.
  void submit(std::string&& line);
  // Takes no more lines, writes what is queued (kFinalFlushLimit at most) and joins the thread.
  // Idempotent; from the thread that owns the writer.
  void close();

  std::uint64_t written() const noexcept { return written_.load(std::memory_order_relaxed); }
  std::uint64_t dropped() const noexcept { return dropped_.load(std::memory_order_relaxed); }

 private:
  using Clock = std::chrono::steady_clock;

  void run();
  bool write_out(std::string_view data);
  bool past_final_deadline() const noexcept;

  LineQueue queue_;
  const int fd_;
  const bool owns_fd_;
  std::atomic<std::uint64_t> written_{0};
  std::atomic<std::uint64_t> dropped_{0};
  // Set by close() before the queue closes: when the writer gives up on what is left.
  std::atomic<Clock::rep> final_deadline_{Clock::time_point::max().time_since_epoch().count()};
  std::thread thread_;
};

}  // namespace brigade::app
