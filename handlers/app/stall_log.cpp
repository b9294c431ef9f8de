#include "stall_log.hpp"

#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include "brigade/server/http.hpp"

namespace brigade::app {
namespace {

// The stack as a JSON array of strings, innermost frame first.
std::string json_array(const std::vector<std::string>& frames) {
  std::string out = "[";
  for (const std::string& frame : frames) {
    if (out.size() > 1) out += ',';
    out += '"' + server::json_escape(frame) + '"';
  }
  return out + ']';
}

std::vector<LogField> fields_of(const runtime::StallReport& report) {
  const bool ongoing = report.phase == runtime::StallReport::Phase::ongoing;
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(report.duration).count();
  std::vector<LogField> fields{
      LogField::number("worker", report.worker),
      LogField::number(ongoing ? "ms_so_far" : "ms_total", static_cast<std::uint64_t>(ms))};
  if (report.task_id == 0) return fields;  // a stall too short to be seen while it ran
  fields.push_back(LogField::number("task", report.task_id));
  fields.push_back(LogField::text("spawned_at", std::string(report.spawned_at.file_name()) + ':' +
                                                    std::to_string(report.spawned_at.line())));
  fields.push_back(LogField::text("spawned_in", report.spawned_at.function_name()));
  if (!report.annotation.empty()) fields.push_back(LogField::text("route", report.annotation));
  if (!report.backtrace.empty()) fields.push_back({"backtrace", json_array(report.backtrace)});
  return fields;
}

}  // namespace

std::function<void(const runtime::StallReport&)> stall_log(Logger log) {
  return [log](const runtime::StallReport& report) {
    const bool ongoing = report.phase == runtime::StallReport::Phase::ongoing;
    log.log(config::LogLevel::warn, ongoing ? "worker stalled" : "worker stall ended",
            fields_of(report));
  };
}

}  // namespace brigade::app
