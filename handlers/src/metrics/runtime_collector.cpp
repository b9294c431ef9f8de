#include "metrics/runtime_collector.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <utility>

#include "metrics/family.hpp"

namespace brigade::handlers::detail {

using prometheus::MetricType;

namespace {

// A histogram family of one unlabelled series (the workers' recorders already summed).
prometheus::MetricFamily duration_histogram(std::string name, std::string help,
                                            const runtime::DurationHistogram& durations) {
  prometheus::MetricFamily result = family(std::move(name), std::move(help), MetricType::Histogram);
  prometheus::ClientMetric metric;
  std::uint64_t cumulative = 0;
  for (std::size_t bucket = 0; bucket < durations.counts.size(); ++bucket) {
    cumulative += durations.counts[bucket];
    const double bound =
        bucket + 1 < durations.counts.size()
            ? std::chrono::duration<double>(runtime::DurationHistogram::upper_bound(bucket)).count()
            : std::numeric_limits<double>::infinity();
    metric.histogram.bucket.push_back({cumulative, bound});
  }
  // The count is the buckets' total, so a scrape racing a recording stays self-consistent.
  metric.histogram.sample_count = cumulative;
  metric.histogram.sample_sum = std::chrono::duration<double>(durations.sum).count();
  result.metric.push_back(std::move(metric));
  return result;
}

}  // namespace

std::vector<prometheus::MetricFamily> RuntimeCollector::Collect() const {
  const runtime::RuntimeMetrics m = runtime_.metrics();
  const auto value = [](auto number) { return static_cast<double>(number); };

  std::vector<prometheus::MetricFamily> families;
  families.push_back(single("brigade_runtime_workers", "Worker threads of the async runtime.",
                            MetricType::Gauge, value(m.workers)));
  families.push_back(single("brigade_runtime_global_queue_depth",
                            "Tasks waiting in the shared injection queue.", MetricType::Gauge,
                            value(m.injection_queue_depth)));
  families.push_back(single("brigade_runtime_blocking_threads",
                            "Threads of the blocking pool, busy or idle.", MetricType::Gauge,
                            value(m.blocking_threads)));
  families.push_back(single("brigade_runtime_blocking_idle_threads",
                            "Threads of the blocking pool waiting for work.", MetricType::Gauge,
                            value(m.blocking_idle_threads)));
  families.push_back(single("brigade_runtime_blocking_queue_depth",
                            "Closures waiting for a thread of the blocking pool.",
                            MetricType::Gauge, value(m.blocking_queue_depth)));
  families.push_back(single("brigade_runtime_blocking_rejected_total",
                            "Closures spawn_blocking refused because the queue was at its limit.",
                            MetricType::Counter, value(m.blocking_tasks_rejected)));
  families.push_back(duration_histogram(
      "brigade_runtime_blocking_queue_wait_seconds",
      "From spawn_blocking submitting a closure to a thread of the pool starting it.",
      m.blocking_queue_wait));
  families.push_back(duration_histogram(
      "brigade_runtime_poll_duration_seconds",
      "One run of a task on a worker, from its start until it returned, all workers.",
      m.poll_duration));
  families.push_back(duration_histogram(
      "brigade_runtime_schedule_delay_seconds",
      "From a task being made runnable (spawned, woken, yielded) to a worker starting to run it, "
      "all workers.",
      m.schedule_delay));
  families.push_back(single("brigade_runtime_tasks_alive", "Tasks spawned and not yet finished.",
                            MetricType::Gauge, value(m.tasks_alive)));
  families.push_back(single("brigade_runtime_tasks_spawned_total",
                            "Tasks spawned since the runtime started.", MetricType::Counter,
                            value(m.tasks_spawned)));
  families.push_back(single("brigade_runtime_budget_forced_yields_total",
                            "Times a task was made to yield by the cooperative budget.",
                            MetricType::Counter, value(m.budget_forced_yields)));

  auto local_queue = family("brigade_runtime_local_queue_depth",
                            "Tasks in each worker's local run queue.", MetricType::Gauge);
  auto steals = family("brigade_runtime_steals_total", "Tasks each worker stole from others.",
                       MetricType::Counter);
  auto parks = family("brigade_runtime_parks_total", "Times each worker parked for lack of work.",
                      MetricType::Counter);
  auto overflows = family("brigade_runtime_overflows_total",
                          "Times each worker's full local queue sent tasks to the global queue.",
                          MetricType::Counter);
  auto polls =
      family("brigade_runtime_polls_total", "Task runs on each worker.", MetricType::Counter);
  auto busy = family("brigade_runtime_worker_busy_seconds_total",
                     "Time each worker spent running tasks.", MetricType::Counter);
  auto stalls = family("brigade_runtime_stalls_total",
                       "Polls of one task that ran stall_threshold or longer, by worker.",
                       MetricType::Counter);
  for (std::size_t i = 0; i < m.worker.size(); ++i) {
    const runtime::WorkerMetrics& worker = m.worker[i];
    const std::vector<prometheus::ClientMetric::Label> labels{{"worker", std::to_string(i)}};
    add_sample(local_queue, value(worker.local_queue_depth), labels);
    add_sample(steals, value(worker.steals), labels);
    add_sample(parks, value(worker.parks), labels);
    add_sample(overflows, value(worker.overflows), labels);
    add_sample(polls, value(worker.polls), labels);
    add_sample(busy, std::chrono::duration<double>(worker.busy).count(), labels);
    add_sample(stalls, value(worker.stalls), labels);
  }
  families.push_back(std::move(local_queue));
  families.push_back(std::move(steals));
  families.push_back(std::move(parks));
  families.push_back(std::move(overflows));
  families.push_back(std::move(polls));
  families.push_back(std::move(busy));
  families.push_back(std::move(stalls));
  return families;
}

}  // namespace brigade::handlers::detail
