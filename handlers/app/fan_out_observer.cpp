#include "fan_out_observer.hpp"

#include <algorithm>
#include <utility>

namespace brigade::app {

void FanOutObserver::on_request(const server::Request& request, const server::Exchange& exchange) {
  for (const auto& observer : observers_) observer->on_request(request, exchange);
}

void FanOutObserver::on_connection_opened() {
  for (const auto& observer : observers_) observer->on_connection_opened();
}

void FanOutObserver::on_connection_closed() {
  for (const auto& observer : observers_) observer->on_connection_closed();
}

void FanOutObserver::on_request_cancelled(const server::Request& request) {
  for (const auto& observer : observers_) observer->on_request_cancelled(request);
}

void FanOutObserver::on_connection_rejected(server::RejectReason reason) {
  for (const auto& observer : observers_) observer->on_connection_rejected(reason);
}

void FanOutObserver::on_timeout(server::TimeoutPhase phase) {
  for (const auto& observer : observers_) observer->on_timeout(phase);
}

void FanOutObserver::on_handler_failed(const server::Request& request, std::string_view what) {
  for (const auto& observer : observers_) observer->on_handler_failed(request, what);
}

std::shared_ptr<server::RequestObserver> combine_observers(
    std::vector<std::shared_ptr<server::RequestObserver>> observers) {
  std::erase(observers, nullptr);
  if (observers.empty()) return nullptr;
  if (observers.size() == 1) return std::move(observers.front());
  return std::make_shared<FanOutObserver>(std::move(observers));
}

}  // namespace brigade::app
