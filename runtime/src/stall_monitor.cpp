#include "stall_monitor.hpp"

#include <algorithm>
#include <utility>

#include "brigade/runtime/detail/poll_clock.hpp"
#include "stack_capture.hpp"

namespace brigade::runtime::detail {
namespace {

// How long a stuck worker gets to answer the backtrace signal. It runs the handler as soon as
// the kernel delivers it (a thread in a busy loop included); a thread with the signal blocked
// never does, and its report goes out without a stack.
constexpr std::chrono::milliseconds kCapturePatience{100};
// Looking twice per threshold catches a stall at most half a threshold late.
constexpr std::chrono::nanoseconds kMinPeriod = std::chrono::milliseconds(1);

}  // namespace

StallMonitor::StallMonitor(const WorkStealingScheduler& scheduler,
                           std::chrono::nanoseconds threshold, Sink sink)
    : scheduler_(scheduler),
      threshold_ns_(threshold.count()),
      sink_(std::move(sink)),
      thread_([this] { run(); }) {
  prepare_stack_capture();
}

StallMonitor::~StallMonitor() { stop(); }

void StallMonitor::stop() noexcept {
  {
    std::lock_guard guard(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void StallMonitor::run() {
  const auto period = std::max(std::chrono::nanoseconds(threshold_ns_ / 2), kMinPeriod);
  std::vector<Watch> watches(scheduler_.workers());
  std::unique_lock lock(mutex_);
  while (!wake_.wait_for(lock, period, [this] { return stopping_; })) {
    lock.unlock();
    for (std::size_t i = 0; i < watches.size(); ++i) check(i, watches[i]);
    lock.lock();
  }
}

void StallMonitor::check(std::size_t index, Watch& watch) {
  const WorkStealingScheduler::PollProbe probe = scheduler_.poll_probe(index);
  // The worker counts a stall as the poll ends (a release store, after the stall's stamps).
  if (probe.stalls != watch.stalls) report_end(index, watch, probe);
  const std::int64_t now = poll_clock_ns();
  if (probe.started_ns != 0 && probe.started_ns != watch.reported_start &&
      now - probe.started_ns >= threshold_ns_) {
    report_ongoing(index, watch, probe, now);
  }
}

void StallMonitor::report_end(std::size_t index, Watch& watch,
                              const WorkStealingScheduler::PollProbe& probe) {
  // The stall we reported, if it is the one that ended (the worker records each stall's start
  // stamp); otherwise one we did not catch while it ran (too short, or this thread did not get
  // a turn in time), known by its task's id alone.
  StallReport report;
  if (watch.awaiting_end && probe.last_stall_started_ns == watch.reported_start) {
    report = std::move(watch.report);
    watch.awaiting_end = false;
  } else {
    report.task_id = probe.last_stall_task_id;
  }
  report.phase = StallReport::Phase::ended;
  report.worker = index;
  report.duration = std::chrono::nanoseconds(probe.last_stall_ns);
  report.backtrace.clear();
  watch.stalls = probe.stalls;
  sink_(report);
}

void StallMonitor::report_ongoing(std::size_t index, Watch& watch,
                                  const WorkStealingScheduler::PollProbe& probe, std::int64_t now) {
  // Reported once, whatever the outcome below: the next look must not ask again.
  watch.reported_start = probe.started_ns;
  watch.awaiting_end = false;
  StallReport report;
  report.phase = StallReport::Phase::ongoing;
  report.worker = index;
  report.duration = std::chrono::nanoseconds(now - probe.started_ns);
  // Without a stack the report still names the task (the worker stores its id as each poll
  // starts); the backtrace, spawn site and annotation need the worker's own answer.
  report.task_id = probe.task_id;
  watch.report = {};                 // until the worker has told us which task it runs
  if (probe.thread_id == 0) return;  // the worker is leaving its loop
  if (auto snapshot = capture_thread(probe.thread_id, kCapturePatience)) {
    // The worker answered from another poll, or from between two: this one is over, and its
    // end is reported with the task's id alone.
    if (snapshot->poll_started_ns != probe.started_ns || snapshot->task_id == 0) return;
    report.task_id = snapshot->task_id;
    report.spawned_at = snapshot->spawned_at;
    report.annotation = std::move(snapshot->annotation);
    report.backtrace = std::move(snapshot->backtrace);
  }
  watch.report = report;
  watch.awaiting_end = true;
  sink_(report);
}

}  // namespace brigade::runtime::detail
