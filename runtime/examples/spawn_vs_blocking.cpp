// spawn vs spawn_blocking, made visible:
//  1. which threads run async tasks and which run blocking closures;
//  2. what a synchronous sleep inside an async task does to another task's timer, against the
//     same sleep moved to the blocking pool;
//  3. CPU work offloaded and joined;
//  4. an exception in either kind of task arriving as a JoinError.
#include <pthread.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <iostream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "brigade/runtime/runtime.hpp"
#include "brigade/runtime/time.hpp"

namespace rt = brigade::runtime;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

std::string thread_name() {
  char name[16] = {};
  pthread_getname_np(pthread_self(), name, sizeof name);
  return name;
}

rt::Task<std::string> where_async() { co_return thread_name(); }

rt::Task<void> show_threads() {
  std::cout << "1. Who runs what\n";
  std::vector<rt::JoinHandle<std::string>> async_tasks;
  std::vector<rt::JoinHandle<std::string>> blocking_tasks;
  for (int i = 0; i < 3; ++i) {
    async_tasks.push_back(rt::spawn(where_async()));
    blocking_tasks.push_back(rt::spawn_blocking([] {
      std::this_thread::sleep_for(20ms);  // overlap, so the pool grows past one thread
      return thread_name();
    }));
  }
  for (auto& task : async_tasks) std::cout << "   spawn          ran on " << *co_await task << "\n";
  for (auto& task : blocking_tasks) {
    std::cout << "   spawn_blocking ran on " << *co_await task << "\n";
  }
}

// Sleeps `period` over and over and reports the worst lateness of its wake-ups.
rt::Task<Clock::duration> measure_lateness(Clock::duration period, int ticks) {
  Clock::duration worst{};
  for (int i = 0; i < ticks; ++i) {
    const auto due = Clock::now() + period;
    co_await rt::sleep_until(due);
    worst = std::max(worst, Clock::now() - due);
  }
  co_return worst;
}

rt::Task<void> block_the_worker(Clock::duration how_long) {
  std::this_thread::sleep_for(how_long);  // the anti-pattern: a synchronous wait on a worker
  co_return;
}

double to_ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

rt::Task<void> show_latency() {
  std::cout << "2. A 10 ms ticker while something sleeps synchronously for 200 ms (1 worker)\n";
  {
    auto ticker = rt::spawn(measure_lateness(10ms, 30));
    co_await rt::sleep(20ms);
    auto blocker = rt::spawn(block_the_worker(200ms));
    co_await blocker;
    std::cout << "   inside spawn:          worst ticker lateness " << to_ms(*co_await ticker)
              << " ms\n";
  }
  {
    auto ticker = rt::spawn(measure_lateness(10ms, 30));
    co_await rt::sleep(20ms);
    auto blocker = rt::spawn_blocking([] { std::this_thread::sleep_for(200ms); });
    co_await blocker;
    std::cout << "   inside spawn_blocking: worst ticker lateness " << to_ms(*co_await ticker)
              << " ms\n";
  }
}

std::uint64_t count_primes(std::uint64_t below) {
  std::uint64_t count = 0;
  for (std::uint64_t n = 2; n < below; ++n) {
    bool prime = true;
    for (std::uint64_t d = 2; d * d <= n && prime; ++d) prime = n % d != 0;
    count += prime ? 1 : 0;
  }
  return count;
}

rt::Task<void> show_cpu_work() {
  std::cout << "3. CPU work on the blocking pool\n";
  auto low = rt::spawn_blocking([] { return count_primes(200'000); });
  auto high = rt::spawn_blocking([] { return count_primes(400'000); });
  const auto first = co_await low;
  const auto second = co_await high;
  std::cout << "   primes below 200,000: " << *first << "; below 400,000: " << *second << "\n";
}

rt::Task<int> fail_async() {
  throw std::runtime_error("async task failed");
  co_return 0;
}

rt::Task<void> show_panics() {
  std::cout << "4. Exceptions become JoinErrors\n";
  auto async_result = co_await rt::spawn(fail_async());
  auto blocking_result = co_await rt::spawn_blocking(
      []() -> int { throw std::runtime_error("blocking closure failed"); });
  std::cout << "   spawn:          " << async_result.error().message() << "\n";
  std::cout << "   spawn_blocking: " << blocking_result.error().message() << "\n";
}

rt::Task<void> run() {
  co_await show_threads();
  co_await show_latency();
  co_await show_cpu_work();
  co_await show_panics();
}

}  // namespace

int main() {
  // One worker makes the blocked-worker effect plain; with more, only the tasks queued on the
  // blocked worker would suffer (until stolen).
  auto runtime = rt::Builder::multi_thread().worker_threads(1).build();
  runtime.block_on(run());
}
