#include "support.hpp"

#include <pthread.h>

#include <algorithm>

#include "brigade/runtime/time.hpp"

namespace guide {

std::string thread_name() {
  char name[16] = {};
  pthread_getname_np(pthread_self(), name, sizeof name);
  return name;
}

double to_ms(Clock::duration duration) {
  return std::chrono::duration<double, std::milli>(duration).count();
}

double ms_since(Clock::time_point start) { return to_ms(Clock::now() - start); }

void spin_for(Clock::duration duration) {
  const auto until = Clock::now() + duration;
  volatile std::uint64_t sink = 0;
  while (Clock::now() < until) {
    for (int i = 0; i < 1000; ++i) sink = sink + static_cast<std::uint64_t>(i);
  }
}

std::uint64_t count_primes(std::uint64_t limit) {
  std::uint64_t count = 0;
  for (std::uint64_t n = 2; n < limit; ++n) {
    bool prime = true;
    for (std::uint64_t d = 2; d * d <= n && prime; ++d) prime = n % d != 0;
    count += prime ? 1 : 0;
  }
  return count;
}

rt::Task<Clock::duration> worst_lateness(Clock::duration period, int ticks) {
  Clock::duration worst{};
  for (int i = 0; i < ticks; ++i) {
    const auto due = Clock::now() + period;
    co_await rt::sleep_until(due);
    worst = std::max(worst, Clock::now() - due);
  }
  co_return worst;
}

rt::Task<bool> poll_until(std::function<bool()> condition, Clock::duration limit) {
  const auto give_up = Clock::now() + limit;
  while (!condition()) {
    if (Clock::now() >= give_up) co_return false;
    co_await rt::sleep(2ms);
  }
  co_return true;
}

}  // namespace guide
