#include "brigade/runtime/join_error.hpp"

#include <stdexcept>

namespace brigade::runtime {

void JoinError::resume_panic() const {
  if (panic_) std::rethrow_exception(panic_);
  throw std::logic_error("resume_panic on a JoinError that is not a panic: " + message());
}

std::string JoinError::message() const {
  // Built with append: GCC 12 reports a false -Wrestrict on chains of operator+ at -O2.
  std::string text("task ");
  text.append(std::to_string(task_id_))
      .append(" spawned at ")
      .append(spawned_at_.file_name())
      .append(":")
      .append(std::to_string(spawned_at_.line()));
  switch (kind_) {
    case Kind::cancelled:
      return text.append(" was cancelled");
    case Kind::rejected:
      return text.append(" was rejected: the blocking queue is full");
    case Kind::panicked:
      break;
  }
  text += " panicked";
  try {
    std::rethrow_exception(panic_);
  } catch (const std::exception& e) {
    text += ": ";
    text += e.what();
  } catch (...) {
    text += " with a non-standard exception";
  }
  return text;
}

}  // namespace brigade::runtime
