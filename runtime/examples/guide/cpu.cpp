// CPU-intensive work belongs on the blocking pool too: computing holds the worker as much as
// sleeping does. Counting primes inside a task lets no tick of a 10 ms ticker run until it is
// done; the same computation in spawn_blocking leaves the ticker on time.
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <string>

#include "brigade/runtime/runtime.hpp"
#include "lessons.hpp"
#include "support.hpp"

namespace guide {
namespace {

constexpr std::uint64_t kLimit = 300'000;
std::atomic<std::uint64_t> primes_found{0};

Window count_and_time() {
  Window window{Clock::now(), {}};
  primes_found = count_primes(kLimit);
  window.end = Clock::now();
  return window;
}

rt::Task<Window> count_in_task() { co_return count_and_time(); }

rt::Task<void> run() {
  auto in_task = ticker_beside([] { return rt::spawn(count_in_task()); });
  const TickerEvidence in_task_evidence = co_await std::move(in_task);
  std::printf("  spawn:          %llu primes below %llu; %s\n",
              static_cast<unsigned long long>(primes_found.exchange(0)),
              static_cast<unsigned long long>(kLimit), in_task_evidence.describe().c_str());
  auto on_pool = ticker_beside([] { return rt::spawn_blocking(count_and_time); });
  const TickerEvidence on_pool_evidence = co_await std::move(on_pool);
  std::printf("  spawn_blocking: %llu primes below %llu; %s\n",
              static_cast<unsigned long long>(primes_found.exchange(0)),
              static_cast<unsigned long long>(kLimit), on_pool_evidence.describe().c_str());
}

}  // namespace

int cpu_work() {
  auto runtime = rt::Builder::multi_thread().worker_threads(1).build();
  runtime.block_on(run());
  return 0;
}

}  // namespace guide
