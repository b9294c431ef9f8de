#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <source_location>
#include <string>
#include <vector>

#include "brigade/runtime/wait_reason.hpp"

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
  // Running: the worker polling it (-1 otherwise, or when its index is 255 or more).
  int worker = -1;
  // Since it was spawned, on the coarse poll clock (a few milliseconds of resolution).
  std::chrono::milliseconds age{0};
  // How many times a worker has run it.
  std::uint32_t polls = 0;
  // Idle: what it waits on (WaitReason::none otherwise), and the one detail of that reason.
  WaitReason wait = WaitReason::none;
  int fd = -1;                          // read, write: the descriptor
  std::chrono::milliseconds due_in{0};  // timer: until the deadline (negative once past it)
  std::uint64_t joined_task = 0;        // join, blocking: the id of the task awaited
  std::size_t branches = 0;             // select, join_all: how many operands
};

const char* to_string(TaskInfo::State state) noexcept;

// "read of fd 7", "timer due in 1.250s", "join of task 42", "select of 2", "mpsc_receive": what
// an idle task waits on, in words; empty for WaitReason::none.
std::string describe_wait(const TaskInfo& task);

// A goroutine-style dump of `tasks`: one paragraph per spawn site, the busiest first,
// "N tasks spawned at file:line (function): S idle, S scheduled, ..." (and what the idle ones
// wait on: "idle on: 3 timer, 1 read") followed by at most `tasks_per_site` of its tasks, the
// oldest first, one per line ("  task 42 idle on timer due in 0.750s, age 1.204s, 3 polls,
// annotation=/sleep"; "  task 7 running on worker 1, age 0.004s, 1 poll").
std::string describe(const std::vector<TaskInfo>& tasks, std::size_t tasks_per_site);

}  // namespace brigade::runtime
