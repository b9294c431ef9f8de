#pragma once

#include <chrono>

#include "brigade/runtime/detail/task_header.hpp"
#include "brigade/runtime/detail/timer_entry.hpp"

namespace brigade::runtime::detail {

// A timer as the driver sees it: the wheel's entry plus the waiter to wake when it fires.
struct TimerNode : TimerEntry {
  std::chrono::steady_clock::time_point when;
  Waiter waiter;
};

}  // namespace brigade::runtime::detail
