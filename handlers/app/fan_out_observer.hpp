#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string_view>
#include <vector>

#include "brigade/server/server.hpp"

namespace brigade::app {

// Hands every event to several observers in turn (the metrics and the access log), behind the
// one ServerOptions::observer.
class FanOutObserver final : public server::RequestObserver {
 public:
  explicit FanOutObserver(std::vector<std::shared_ptr<server::RequestObserver>> observers) noexcept
      : observers_(std::move(observers)) {}

  void on_request(const server::Request& request, const server::Exchange& exchange) override;
  void on_request_cancelled(const server::Request& request) override;
  void on_connection_opened() override;
  void on_connection_closed() override;
  void on_connection_rejected(server::RejectReason reason) override;
  void on_timeout(server::TimeoutPhase phase) override;
  void on_handler_failed(const server::Request& request, std::string_view what) override;

 private:
  std::vector<std::shared_ptr<server::RequestObserver>> observers_;
};

// The observer for ServerOptions: null for none, the observer itself for one (no extra virtual
// call per event), a FanOutObserver for more. Null entries are skipped.
std::shared_ptr<server::RequestObserver> combine_observers(
    std::vector<std::shared_ptr<server::RequestObserver>> observers);

}  // namespace brigade::app
