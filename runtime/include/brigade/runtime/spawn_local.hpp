#pragma once

#include <source_location>
#include <utility>

#include "brigade/runtime/join_handle.hpp"
#include "brigade/runtime/spawn.hpp"
#include "brigade/runtime/task.hpp"

namespace brigade::runtime {
namespace detail {

// The current runtime, if it is a current-thread runtime driven by this thread: binds it to this
// thread for good. Throws std::logic_error otherwise.
RuntimeCore& expect_local_runtime();

}  // namespace detail

// Spawns a task that never leaves this thread, for state that must not cross threads (Tokio's
// spawn_local). On the current-thread flavor every task runs on the thread inside block_on, so
// that is where spawn_local works: called anywhere else it throws std::logic_error. The runtime
// then belongs to this thread: block_on from any other thread terminates with a message.
template <class T>
JoinHandle<T> spawn_local(Task<T> task,
                          std::source_location where = std::source_location::current()) {
  return detail::spawn_on(detail::expect_local_runtime(), std::move(task), where);
}

}  // namespace brigade::runtime
