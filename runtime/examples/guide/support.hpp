// What every lesson of the guide uses: thread names, timings, a ticker that measures how late
// its wake-ups are, and CPU work that keeps a thread busy without a system call.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

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

// Sleeps `period` `ticks` times and returns the worst lateness of its wake-ups: how long the
// task waited for a thread after its timer fired.
rt::Task<Clock::duration> worst_lateness(Clock::duration period, int ticks);

// Checks `condition` every 2 ms until it holds or `limit` passed; returns whether it held. For
// evidence that takes a moment to show (a thread exiting), without guessing how long to sleep.
rt::Task<bool> poll_until(std::function<bool()> condition, Clock::duration limit);

}  // namespace guide
