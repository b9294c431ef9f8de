#include "failure_log.hpp"

#include <array>

namespace brigade::app {

void FailureLog::on_handler_failed(const server::Request& request, std::string_view what) {
  const std::array fields{
      LogField::text("method", request.method),
      LogField::text("route", request.route),
      LogField::text("target", request.target),
      LogField::text("error", what),
  };
  log_.log(config::LogLevel::error, "handler failed", fields);
}

}  // namespace brigade::app
