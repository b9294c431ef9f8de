#pragma once

#include <chrono>
#include <cstddef>

#include "brigade/server/server.hpp"
#include "log.hpp"

namespace brigade::app {

// The access_log setting: one info line per answered request, through the server's
// RequestObserver. Off by default: formatting and writing a line per request costs throughput.
class AccessLog final : public server::RequestObserver {
 public:
  explicit AccessLog(Logger log) noexcept : log_(log) {}

  void on_request(const server::Request& request, int status, std::size_t request_bytes,
                  std::size_t response_bytes, std::chrono::nanoseconds duration) override;

 private:
  Logger log_;
};

}  // namespace brigade::app
