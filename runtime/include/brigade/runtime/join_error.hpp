#pragma once

#include <cstdint>
#include <exception>
#include <source_location>
#include <string>

namespace brigade::runtime {

// Why a task has no value to give its JoinHandle.
class JoinError {
 public:
  enum class Kind {
    cancelled,  // aborted, or the runtime shut down first
    panicked,   // an exception escaped the task; it is carried here
    rejected,   // spawn_blocking found the blocking queue at its limit
  };

  JoinError(Kind kind, std::uint64_t task_id, std::source_location spawned_at,
            std::exception_ptr panic = nullptr) noexcept
      : kind_(kind), task_id_(task_id), spawned_at_(spawned_at), panic_(std::move(panic)) {}

  Kind kind() const noexcept { return kind_; }
  bool is_cancelled() const noexcept { return kind_ == Kind::cancelled; }
  bool is_panic() const noexcept { return kind_ == Kind::panicked; }
  bool is_rejected() const noexcept { return kind_ == Kind::rejected; }
  std::uint64_t task_id() const noexcept { return task_id_; }
  const std::source_location& spawned_at() const noexcept { return spawned_at_; }

  // The exception that escaped the task (null unless is_panic()).
  const std::exception_ptr& panic() const noexcept { return panic_; }
  // Rethrows the carried exception in the joining task.
  [[noreturn]] void resume_panic() const;

  // "task 7 spawned at main.cpp:42 panicked: <what()>"
  std::string message() const;

 private:
  Kind kind_;
  std::uint64_t task_id_;
  std::source_location spawned_at_;
  std::exception_ptr panic_;
};

}  // namespace brigade::runtime
