#pragma once

#include <functional>

#include "brigade/runtime/stall.hpp"
#include "log.hpp"

namespace brigade::app {

// The runtime's stall reports as warnings in the program's log: "worker stalled" while a poll
// runs past stall_threshold (the task, its spawn site, the route its handler serves, the
// worker's stack) and "worker stall ended" with the total.
std::function<void(const runtime::StallReport&)> stall_log(Logger log);

}  // namespace brigade::app
