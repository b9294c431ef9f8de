#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "brigade/runtime/stall.hpp"
#include "scheduler.hpp"

namespace brigade::runtime::detail {

// The stall detector: one thread that wakes every half threshold and looks at each worker's
// poll-start stamp (the workers themselves pay one clock read and one store per poll, no lock).
// A poll older than the threshold is reported once while it runs (task, spawn site, annotation
// and the worker's stack, asked of the worker with a signal) and once more when it has ended,
// with the total the worker measured. Owned by the runtime: destroying it stops the thread.
class StallMonitor {
 public:
  using Sink = std::function<void(const StallReport&)>;

  StallMonitor(const WorkStealingScheduler& scheduler, std::chrono::nanoseconds threshold,
               Sink sink);
  StallMonitor(const StallMonitor&) = delete;
  StallMonitor& operator=(const StallMonitor&) = delete;
  ~StallMonitor();

  // Stops and joins the thread; later calls do nothing.
  void stop() noexcept;

 private:
  // What the monitor knows of one worker: the last poll it reported as stalled (by its start
  // stamp: never reported twice), that report while its end is awaited, and the worker's stall
  // count at the last look.
  struct Watch {
    std::int64_t reported_start = 0;
    bool awaiting_end = false;
    StallReport report;
    std::uint64_t stalls = 0;
  };

  void run();
  void check(std::size_t index, Watch& watch);
  void report_end(std::size_t index, Watch& watch, const WorkStealingScheduler::PollProbe& probe);
  void report_ongoing(std::size_t index, Watch& watch,
                      const WorkStealingScheduler::PollProbe& probe, std::int64_t now);

  const WorkStealingScheduler& scheduler_;
  const std::int64_t threshold_ns_;
  const Sink sink_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;  // guarded by mutex_
  std::thread thread_;     // last: started once everything above exists
};

}  // namespace brigade::runtime::detail
