// CPU-intensive work belongs on the blocking pool too: computing is blocking the worker as much
// as sleeping is. Counting primes inside a task makes a 10 ms ticker late by the whole
// computation; the same computation in spawn_blocking leaves it on time.
#include <cstdint>
#include <cstdio>

#include "brigade/runtime/runtime.hpp"
#include "brigade/runtime/time.hpp"
#include "lessons.hpp"
#include "support.hpp"

namespace guide {
namespace {

constexpr std::uint64_t kLimit = 300'000;

rt::Task<std::uint64_t> primes_in_task() { co_return count_primes(kLimit); }

rt::Task<void> run() {
  for (const bool offloaded : {false, true}) {
    auto ticker = rt::spawn(worst_lateness(10ms, 20));
    co_await rt::sleep(20ms);
    const auto start = Clock::now();
    auto primes = offloaded ? rt::spawn_blocking([] { return count_primes(kLimit); })
                            : rt::spawn(primes_in_task());
    const std::uint64_t found = *co_await primes;
    const double computing = ms_since(start);
    const double late = to_ms(*co_await ticker);
    std::printf("  %s: %llu primes below %llu in %.0f ms; ticker late by %.1f ms at worst\n",
                offloaded ? "spawn_blocking" : "spawn         ",
                static_cast<unsigned long long>(found), static_cast<unsigned long long>(kLimit),
                computing, late);
  }
}

}  // namespace

int cpu_work() {
  auto runtime = rt::Builder::multi_thread().worker_threads(1).build();
  runtime.block_on(run());
  return 0;
}

}  // namespace guide
