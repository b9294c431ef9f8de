#pragma once

#include <cstddef>
#include <cstdint>
#include <source_location>
#include <string>
#include <vector>

namespace brigade::runtime {

// One live async task as Handle::dump_tasks() saw it: plain data, copied out while the runtime's
// list of tasks was locked, so it can be formatted and kept after the task is gone.
struct TaskInfo {
  enum class State : std::uint8_t {
    idle,       // waiting for an event (a timer, a socket, a channel, a join)
    scheduled,  // in a run queue
    running,    // being polled by a worker now
    complete,   // finished; leaves the list as soon as its worker is done with it
  };
  std::uint64_t id = 0;
  std::source_location spawned_at;
  State state = State::idle;
  // What the task said it was doing (TaskAnnotation): the server puts the route there.
  std::string annotation;
};

const char* to_string(TaskInfo::State state) noexcept;

// A goroutine-style dump of `tasks`: one paragraph per spawn site, the busiest first,
// "N tasks spawned at file:line (function): S idle, S scheduled, ..." followed by at most
// `tasks_per_site` of its tasks, one per line ("  task 42 idle annotation=/sleep").
std::string describe(const std::vector<TaskInfo>& tasks, std::size_t tasks_per_site);

}  // namespace brigade::runtime
