#pragma once

namespace brigade::runtime {
namespace detail {
class TaskHeader;
}

// Says what the running task is doing, for as long as the guard lives: stall reports (and the
// server, which names the route a handler serves) show it. A handler runs inside its
// connection's task, so the task's spawn site alone names the accept loop, not the culprit.
//
// `what` is a NUL-terminated string that must stay valid while the guard lives (a literal, or a
// route pattern owned by the router). Guards nest: the destructor restores the previous one.
// Outside a task the guard does nothing.
class TaskAnnotation {
 public:
  explicit TaskAnnotation(const char* what) noexcept;
  TaskAnnotation(const TaskAnnotation&) = delete;
  TaskAnnotation& operator=(const TaskAnnotation&) = delete;
  ~TaskAnnotation();

 private:
  detail::TaskHeader* task_;  // the annotated one: the frame holding the guard may be destroyed
                              // off the task (cancelled, or dropped at shutdown)
  const char* previous_;
};

}  // namespace brigade::runtime
