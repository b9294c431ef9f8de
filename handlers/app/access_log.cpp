#include "access_log.hpp"

#include <array>

namespace brigade::app {

void AccessLog::on_request(const server::Request& request, int status, std::size_t request_bytes,
                           std::size_t response_bytes, std::chrono::nanoseconds duration) {
  if (!log_.enabled(config::LogLevel::info)) return;
  const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(duration).count();
  const std::array fields{
      LogField::text("method", request.method),
      LogField::text("target", request.target),
      LogField::text("route", request.route),
      LogField::number("status", static_cast<std::uint64_t>(status)),
      LogField::number("request_bytes", request_bytes),
      LogField::number("response_bytes", response_bytes),
      LogField::number("duration_us", static_cast<std::uint64_t>(micros)),
  };
  log_.log(config::LogLevel::info, "request", fields);
}

}  // namespace brigade::app
