// Sizing the blocking pool: 32 jobs submitted at once, each 10 ms of blocking wait (as a
// synchronous file or database call) or 10 ms of CPU, on pools of 1 to 32 threads. Waits
// overlap as threads are added; CPU work stops gaining at the number of cores, and threads beyond
// it only share them. Figures printed, never asserted.
#include <algorithm>
#include <cstddef>
#include <cstdio>
#include <thread>
#include <vector>

#include "brigade/runtime/runtime.hpp"
#include "lessons.hpp"
#include "support.hpp"

namespace guide {
namespace {

constexpr int kJobs = 32;

struct Figures {
  double elapsed_ms = 0;
  double p50_ms = 0;  // from submission to completion
  double p99_ms = 0;
  std::size_t threads = 0;
};

rt::Task<Figures> workload(bool cpu) {
  const auto start = Clock::now();
  std::vector<rt::JoinHandle<double>> jobs;
  for (int i = 0; i < kJobs; ++i) {
    jobs.push_back(rt::spawn_blocking([start, cpu] {
      if (cpu) {
        spin_for(10ms);
      } else {
        std::this_thread::sleep_for(10ms);
      }
      return ms_since(start);
    }));
  }
  Figures figures;
  figures.threads = rt::Handle::current().metrics().blocking_threads;
  std::vector<double> latencies;
  for (auto& job : jobs) latencies.push_back(*co_await job);
  figures.elapsed_ms = ms_since(start);
  std::sort(latencies.begin(), latencies.end());
  figures.p50_ms = latencies[latencies.size() / 2];
  figures.p99_ms = latencies[latencies.size() * 99 / 100];
  co_return figures;
}

void print_row(std::size_t max_threads, const Figures& wait, const Figures& cpu) {
  std::printf("  %11zu | %7zu %8.0f %7.0f %7.0f %7.0f | %8.0f %7.0f %7.0f\n", max_threads,
              wait.threads, wait.elapsed_ms, kJobs / wait.elapsed_ms * 1000, wait.p50_ms,
              wait.p99_ms, cpu.elapsed_ms, cpu.p50_ms, cpu.p99_ms);
}

}  // namespace

int sizing_the_pool() {
  std::printf("  %d jobs of 10 ms each; times in ms, throughput in jobs/s; %u cores\n", kJobs,
              std::thread::hardware_concurrency());
  std::printf("  %11s | %-39s | %s\n", "", "jobs that wait (sleep_for)", "jobs that compute");
  std::printf("  %11s | %7s %8s %7s %7s %7s | %8s %7s %7s\n", "max_threads", "threads", "total",
              "jobs/s", "p50", "p99", "total", "p50", "p99");
  for (const std::size_t max_threads : {1, 2, 4, 8, 32}) {
    auto runtime =
        rt::Builder::multi_thread().worker_threads(1).max_blocking_threads(max_threads).build();
    const Figures wait = runtime.block_on(workload(false));
    const Figures cpu = runtime.block_on(workload(true));
    print_row(max_threads, wait, cpu);
  }
  return 0;
}

}  // namespace guide
