#include "brigade/runtime/stall.hpp"

#include <chrono>

namespace brigade::runtime {

std::string describe(const StallReport& report) {
  const bool ongoing = report.phase == StallReport::Phase::ongoing;
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(report.duration).count();
  std::string line = ongoing ? "stall: worker " : "stall ended: worker ";
  line += std::to_string(report.worker);
  line += ongoing ? " has been polling " : " polled ";
  if (report.task_id != 0) {
    line += "task " + std::to_string(report.task_id);
  } else {
    line += "a task";
  }
  line += ongoing ? " for " : " for a total of ";
  line += std::to_string(ms) + " ms";
  if (report.task_id != 0) {
    line += " (spawned at ";
    line += report.spawned_at.file_name();
    line += ':' + std::to_string(report.spawned_at.line()) + " in ";
    line += report.spawned_at.function_name();
    if (!report.annotation.empty()) line += "; now in " + report.annotation;
    line += ')';
  }
  return line;
}

}  // namespace brigade::runtime
