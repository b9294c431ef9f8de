// Where each task's task-local chain is kept between its runs, and how a scope enters and leaves
// it (see TaskLocal in task_local.hpp).
//
// The chain's head could live in the task header, but that would cost every task 8 bytes (a
// sleeping task is 104 bytes of header and result); so only tasks inside a scope have an entry
// here, and the header keeps one flag in its padding. The table is touched when a scope is entered
// or left and once per run of a task inside one, never by get().
#include "brigade/runtime/task_local.hpp"

#include <mutex>
#include <unordered_map>

#include "brigade/runtime/detail/task_header.hpp"

namespace brigade::runtime::detail {
namespace {

class ChainTable {
 public:
  void set(const TaskHeader* task, TaskLocalBinding* innermost) {
    std::lock_guard lock(mutex_);
    if (innermost == nullptr) {
      chains_.erase(task);
    } else {
      chains_.insert_or_assign(task, innermost);
    }
  }
  TaskLocalBinding* get(const TaskHeader* task) const {
    std::lock_guard lock(mutex_);
    auto found = chains_.find(task);
    return found == chains_.end() ? nullptr : found->second;
  }

 private:
  mutable std::mutex mutex_;
  std::unordered_map<const TaskHeader*, TaskLocalBinding*> chains_;
};

// Never destroyed: a scope may end while a runtime held in a static is destroyed at exit, after
// a table constructed on first use would be gone.
union ImmortalChainTable {
  ImmortalChainTable() : table() {}
  ~ImmortalChainTable() {}
  ChainTable table;
};

ChainTable& chains() {
  static ImmortalChainTable immortal;
  return immortal.table;
}

}  // namespace

void TaskHeader::set_task_locals(TaskLocalBinding* innermost) noexcept {
  // A task in a scope has an entry already, or this is its first: a failed allocation here is
  // out of memory for a few bytes, as anywhere else.
  chains().set(this, innermost);
  has_task_locals_ = innermost != nullptr;
}

TaskLocalBinding* TaskHeader::task_locals() const noexcept { return chains().get(this); }

TaskLocalEntry::TaskLocalEntry(const void* key, void* value) noexcept
    : task_(current_task), binding_{key, value, current_task_locals} {
  current_task_locals = &binding_;
  if (task_ != nullptr) task_->set_task_locals(&binding_);
}

TaskLocalEntry::~TaskLocalEntry() {
  // Scopes in concurrent branches of one task (join, select) may end in any order: unlink this
  // binding wherever it is rather than assume it is the innermost. The chain is the task's own
  // when it is running, or the side table's when its frames are destroyed from elsewhere
  // (cancelled, or dropped at shutdown).
  const bool running_here = task_ == current_task;
  TaskLocalBinding* head = running_here || task_ == nullptr ? current_task_locals
                                                            : task_->task_locals();
  if (head == &binding_) {
    head = binding_.outer;
  } else {
    for (TaskLocalBinding* inner = head; inner != nullptr; inner = inner->outer) {
      if (inner->outer == &binding_) {
        inner->outer = binding_.outer;
        break;
      }
    }
  }
  if (running_here) current_task_locals = head;
  if (task_ != nullptr) task_->set_task_locals(head);
}

}  // namespace brigade::runtime::detail
