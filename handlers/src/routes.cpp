#include "brigade/handlers/routes.hpp"

#include <utility>

#include "endpoints.hpp"

namespace brigade::handlers {

void add_routes(server::Router& router, RouteContext context) {
  detail::add_hello_routes(router);
  detail::add_echo_routes(router);
  detail::add_sleep_routes(router);
  detail::add_probe_routes(router, std::move(context.is_ready));
  if (context.metrics) detail::add_metrics_routes(router, std::move(context.metrics));
}

}  // namespace brigade::handlers
