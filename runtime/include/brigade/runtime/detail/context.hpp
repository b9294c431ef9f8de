#pragma once

#include <cstddef>

#include "brigade/runtime/detail/task_header.hpp"

namespace brigade::runtime::detail {

// The runtime's shared state (scheduler, blocking pool, driver). Defined in runtime/src; the
// templates of the public headers reach it only through these functions.
class RuntimeCore;

// The runtime whose worker (or block_on) this thread is running, or null.
RuntimeCore* current_runtime() noexcept;
// current_runtime(), or terminates with a message: spawn() outside a runtime is a bug.
RuntimeCore& expect_current_runtime() noexcept;

Scheduler* task_scheduler(RuntimeCore& core) noexcept;
Scheduler* blocking_scheduler(RuntimeCore& core) noexcept;

// Takes a new task (with TaskCell::kInitialRefs references) into the runtime and queues it.
// After shutdown the task is cancelled instead.
void submit_task(RuntimeCore& core, TaskHeader* task) noexcept;
// Queues a blocking closure; false when the blocking queue is at its limit or the runtime has
// shut down (the caller then rejects the cell).
bool submit_blocking(RuntimeCore& core, TaskHeader* task) noexcept;

}  // namespace brigade::runtime::detail
