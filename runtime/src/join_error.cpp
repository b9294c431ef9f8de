#include "brigade/runtime/join_error.hpp"

#include <stdexcept>

namespace brigade::runtime {

void JoinError::resume_panic() const {
  if (panic_) std::rethrow_exception(panic_);
  throw std::logic_error("resume_panic on a JoinError that is not a panic: " + message());
}

std::string JoinError::message() const {
  std::string text = "task " + std::to_string(task_id_) + " spawned at " + spawned_at_.file_name() +
                     ":" + std::to_string(spawned_at_.line());
  switch (kind_) {
    case Kind::cancelled:
      return text + " was cancelled";
    case Kind::rejected:
      return text + " was rejected: the blocking queue is full";
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
