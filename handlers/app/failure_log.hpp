#pragma once

#include <chrono>
#include <cstddef>
#include <string_view>

#include "brigade/server/server.hpp"
#include "log.hpp"

namespace brigade::app {

// Logs every handler that threw (the client got a 500) at error level, with the method, the
// route's pattern, the target and the exception's message. Always on: a 500 without a line says
// nothing to whoever must fix it.
class FailureLog final : public server::RequestObserver {
 public:
  explicit FailureLog(Logger log) noexcept : log_(log) {}

  void on_request(const server::Request& /*request*/,
                  const server::Exchange& /*exchange*/) override {}
  void on_handler_failed(const server::Request& request, std::string_view what) override;

 private:
  Logger log_;
};

}  // namespace brigade::app
