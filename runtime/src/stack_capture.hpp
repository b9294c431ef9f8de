#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <source_location>
#include <string>
#include <string_view>
#include <vector>

namespace brigade::runtime::detail {

// What a worker thread saw of itself when interrupted: its stack and the task it was running.
struct WorkerSnapshot {
  std::int64_t poll_started_ns = 0;  // the worker's poll at that moment (0: between polls)
  std::uint64_t task_id = 0;         // 0: no task was running
  std::source_location spawned_at;
  std::string annotation;
  std::vector<std::string> backtrace;  // symbolized, innermost first
};

// Ends a backtrace whose unwinding stopped at a frame in a library whose unwind tables the
// handler does not follow (see stack_capture.cpp): that frame is the one before this line.
inline constexpr std::string_view kCutShort = "(not unwound further: unwind tables not followed)";

// Interrupts thread `thread_id` of this process with a real-time signal whose handler records
// the thread's stack (libgcc's unwinder) and current task, and waits at most `patience` for it.
// Returns nullopt when the thread did not answer in time (it has the signal blocked, or has
// exited). Symbolizing happens here, outside the handler, with dladdr: exported names only, so the
// brigade binary links with -rdynamic; each frame also carries its module and offset for addr2line.
// Captures from any number of threads are serialized.
std::optional<WorkerSnapshot> capture_thread(int thread_id, std::chrono::milliseconds patience);

// Installs the signal handler and binds libgcc's unwinder (its first use resolves symbols,
// which a signal handler must not do). capture_thread calls it too; calling it up front moves
// that one-time cost to start-up. Idempotent and thread-safe.
void prepare_stack_capture();

// The signal capture_thread uses (SIGRTMAX - 2): a program must leave it alone.
int capture_signal() noexcept;

}  // namespace brigade::runtime::detail
