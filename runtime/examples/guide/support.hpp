// What every lesson of the guide uses: thread names, timings, a ticker that measures how late
// its wake-ups are, and CPU work that keeps a thread busy without a system call.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

#include "brigade/runtime/join_handle.hpp"
#include "brigade/runtime/task.hpp"

namespace guide {

namespace rt = brigade::runtime;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

// The calling thread's name: brigade-w0, brigade-w1... for async workers, brigade-blk for the
// blocking pool.
std::string thread_name();

double to_ms(Clock::duration duration);
double ms_since(Clock::time_point start);

// Keeps the calling thread busy computing for `duration`, as CPU-heavy work would.
void spin_for(Clock::duration duration);

// Counts the primes below `limit` the slow way: CPU work with a checkable answer.
std::uint64_t count_primes(std::uint64_t limit);

// When a call ran: it records this itself, around the blocking part.
struct Window {
  Clock::time_point start;
  Clock::time_point end;
};

// What a 10 ms ticker saw while a call ran beside it on the same runtime.
struct TickerEvidence {
  double worst_late_ms = 0;  // the latest any tick ran after it was due
  int ticks_during_call = 0;
  double call_ms = 0;

  // "ticker late by 201.3 ms at worst; ticks while the call ran: 0 in 200 ms"
  std::string describe() const;
};

// Runs a 10 ms ticker task beside the call that `start_call` spawns (a task or a blocking
// closure, either giving the Window it ran in). A call that holds the ticker's only worker lets
// no tick run until it ends.
rt::Task<TickerEvidence> ticker_beside(rt::JoinHandle<Window> (*start_call)());

// Checks `condition` every 2 ms until it holds or `limit` passed; returns whether it held. For
// evidence that takes a moment to show (a thread exiting), without guessing how long to sleep.
rt::Task<bool> poll_until(std::function<bool()> condition, Clock::duration limit);

}  // namespace guide
