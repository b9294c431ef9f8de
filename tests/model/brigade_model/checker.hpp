// A small exhaustive interleaving checker (the idea of Rust's loom, written here from scratch).
//
// explore() runs a test body again and again, each time under a different interleaving of the
// threads it starts with model::Thread, until every interleaving with at most
// `preemption_bound` preemptions has run. A preemption is a switch away from a thread that could
// have gone on; switches at a thread that blocks or ends are free. The threads are cooperative
// fibers (ucontext) on the calling thread: one runs at a time, and only at a scheduling point
// (every operation on a model::Atomic, Mutex or CondVar, see primitives.hpp) may another take
// over. Each run is one path of a depth-first search over those choices, so the body must be
// deterministic given the schedule: no real threads, clocks or randomness inside it.
//
// What is checked is sequential consistency: every interleaving of the operations as written.
// Weaker orderings (a relaxed store seen late on another core) are not modelled.
//
// A failing model::check, a deadlock (threads left, none can run), an exception escaping a
// thread or a run longer than `max_steps` ends the search; the report names the schedule, a
// dot-separated list of the choices made, which replay() (or BRIGADE_MODEL_SCHEDULE) runs again.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace brigade::model {

// A thread-local variable the code under test uses (for example the running task): each model
// thread gets its own copy, swapped in and out with the thread.
struct ThreadLocalSlot {
  void* address;
  std::size_t size;
};

struct Options {
  int preemption_bound = 2;
  std::uint64_t max_executions = 5'000'000;
  std::uint64_t max_steps = 20'000;  // scheduling points in one execution
  std::vector<ThreadLocalSlot> thread_locals;
};

inline Options with_preemption_bound(int bound) {
  Options options;
  options.preemption_bound = bound;
  return options;
}

struct Failure {
  std::string message;
  std::string schedule;  // feed to replay() or BRIGADE_MODEL_SCHEDULE
  std::string trace;     // the last operations of the failing execution, one per line
};

struct Report {
  std::uint64_t executions = 0;
  std::optional<Failure> failure;
  // One paragraph for a test's output: the count, or the failure with its schedule and trace.
  std::string describe() const;
};

// Runs `body` under every interleaving within the bound, stopping at the first failure. When the
// environment variable BRIGADE_MODEL_SCHEDULE is set, runs only that schedule instead.
Report explore(const std::function<void()>& body, const Options& options = {});
// Runs `body` once under `schedule` (then the default choices, should the schedule end early).
Report replay(const std::function<void()>& body, std::string_view schedule,
              const Options& options = {});

// ---- Inside a body ------------------------------------------------------------------------

// A model thread's identity, as std::thread::id.
class ThreadId {
 public:
  ThreadId() noexcept = default;
  explicit ThreadId(int value) noexcept : value_(value) {}
  friend bool operator==(ThreadId, ThreadId) = default;

 private:
  int value_ = -1;
};

// A model thread, with std::thread's interface. It starts runnable. Unlike std::thread, a
// joinable one joins when destroyed (std::thread would terminate).
class Thread {
 public:
  Thread() noexcept = default;
  explicit Thread(std::function<void()> fn);
  Thread(Thread&& other) noexcept;
  Thread& operator=(Thread&& other) noexcept;
  ~Thread();

  bool joinable() const noexcept { return id_ >= 0; }
  void join();
  void detach() noexcept { id_ = -1; }
  ThreadId get_id() const noexcept { return ThreadId(id_); }

 private:
  int id_ = -1;
};

ThreadId this_thread_id();

// Fails the execution (and the search) with `what` unless `ok`.
void check(bool ok, const char* what);
// A nondeterministic choice in [0, n): the search tries every value.
std::size_t choose(std::size_t n, const char* what);
// A point where another thread may take over before the caller's next shared operation.
void switch_point(const char* operation, const void* object = nullptr);
// Whether an execution is running (the primitives behave as plain data outside one).
bool in_execution() noexcept;

// For the primitives: park the running thread until another wakes it, or time out.
namespace detail {
void block(const void* object, const char* operation);
// Returns false when the wait ended by timing out, which may happen whenever the checker chooses.
bool block_timed(const void* object, const char* operation);
void wake_one(const void* object);
void wake_all(const void* object);
}  // namespace detail

}  // namespace brigade::model
