#include "support.hpp"

#include <pthread.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <memory>
#include <vector>

#include "brigade/runtime/spawn.hpp"
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

namespace {

// When each tick ran, against when it was due.
struct Tick {
  Clock::time_point due;
  Clock::time_point ran;
};

rt::Task<std::vector<Tick>> tick_until(Clock::duration period,
                                       std::shared_ptr<std::atomic<bool>> stop) {
  std::vector<Tick> ticks;
  while (!stop->load()) {
    const auto due = Clock::now() + period;
    co_await rt::sleep_until(due);
    ticks.push_back({due, Clock::now()});
  }
  co_return ticks;
}

}  // namespace

std::string TickerEvidence::describe() const {
  char line[160];
  std::snprintf(line, sizeof line,
                "ticker late by %.1f ms at worst; ticks while the call ran: %d in %.0f ms",
                worst_late_ms, ticks_during_call, call_ms);
  return line;
}

rt::Task<TickerEvidence> ticker_beside(rt::JoinHandle<Window> (*start_call)()) {
  auto stop = std::make_shared<std::atomic<bool>>(false);
  auto ticker = rt::spawn(tick_until(10ms, stop));
  co_await rt::sleep(20ms);  // let it tick first
  auto call = start_call();
  const Window window = *co_await call;
  stop->store(true);
  const std::vector<Tick> ticks = *co_await ticker;
  TickerEvidence evidence;
  evidence.call_ms = to_ms(window.end - window.start);
  for (const auto& tick : ticks) {
    evidence.worst_late_ms = std::max(evidence.worst_late_ms, to_ms(tick.ran - tick.due));
    if (tick.ran > window.start && tick.ran < window.end) ++evidence.ticks_during_call;
  }
  co_return evidence;
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
