#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <source_location>
#include <string>
#include <vector>

namespace brigade::runtime {

// A worker stuck in one poll of one task for longer than the runtime's stall threshold: what the
// stall monitor hands to RuntimeOptions::on_stall, once while the poll still runs (`ongoing`)
// and once when it has ended (`ended`, with the total).
struct StallReport {
  enum class Phase : std::uint8_t { ongoing, ended };
  Phase phase = Phase::ongoing;
  std::size_t worker = 0;
  // The task and where it was spawned. The id is known from the worker's own record of each
  // poll; the spawn site and the annotation only when the worker answered the monitor's signal
  // (not in an `ended` report of a stall the monitor did not see happen, nor when the stuck
  // thread did not answer in time).
  std::uint64_t task_id = 0;
  std::source_location spawned_at;
  // What the task said it was doing (annotate_current_task): the server puts the route there.
  std::string annotation;
  // ongoing: how long the poll has run so far; ended: its total.
  std::chrono::nanoseconds duration{0};
  // ongoing: the stuck worker's stack, innermost frame first, one symbolized line per frame
  // ("module(function+0x1f) [address]"); empty when the worker did not answer in time.
  std::vector<std::string> backtrace;
};

// One line (no newline) describing `report`, as the default on_stall writes it to stderr.
std::string describe(const StallReport& report);

}  // namespace brigade::runtime
