#include "brigade/runtime/task_annotation.hpp"

#include "brigade/runtime/detail/task_header.hpp"

namespace brigade::runtime {

TaskAnnotation::TaskAnnotation(const char* what) noexcept
    : task_(detail::current_task), previous_(nullptr) {
  if (task_ == nullptr) return;
  previous_ = task_->annotation();
  task_->set_annotation(what);
}

TaskAnnotation::~TaskAnnotation() {
  if (task_ != nullptr) task_->set_annotation(previous_);
}

}  // namespace brigade::runtime
