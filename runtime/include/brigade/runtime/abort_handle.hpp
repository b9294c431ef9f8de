#pragma once

#include <cstdint>
#include <utility>

#include "brigade/runtime/detail/task_header.hpp"

namespace brigade::runtime {

// Cancels a task without owning its outcome, like Tokio's AbortHandle: copyable, and it neither
// detaches nor keeps the task from finishing. Get one from JoinHandle::abort_handle() or
// JoinSet::spawn().
class AbortHandle {
 public:
  AbortHandle() noexcept = default;
  explicit AbortHandle(detail::TaskHeader* task) noexcept : task_(task) {
    if (task_ != nullptr) task_->ref();
  }
  AbortHandle(const AbortHandle& other) noexcept : AbortHandle(other.task_) {}
  AbortHandle(AbortHandle&& other) noexcept : task_(std::exchange(other.task_, nullptr)) {}
  AbortHandle& operator=(AbortHandle other) noexcept {
    std::swap(task_, other.task_);
    return *this;
  }
  ~AbortHandle() {
    if (task_ != nullptr) task_->unref();
  }

  // Cancels the task at its next suspension point (or before it starts); no-op once finished.
  void abort() const noexcept {
    if (task_ != nullptr) task_->abort();
  }
  bool is_finished() const noexcept { return task_ == nullptr || task_->is_finished(); }
  std::uint64_t id() const noexcept { return task_ != nullptr ? task_->id() : 0; }

 private:
  detail::TaskHeader* task_ = nullptr;  // one reference, held
};

}  // namespace brigade::runtime
