#include "brigade/handlers/routes.hpp"

#include <utility>

#include "endpoints.hpp"

namespace brigade::handlers {

void add_public_routes(server::Router& router, RouteContext context) {
  detail::add_hello_routes(router);
  detail::add_echo_routes(router);
  detail::add_sleep_routes(router);
  detail::add_probe_routes(router, std::move(context.is_ready));
  detail::add_hash_routes(router, context.hash_offload_threshold);
  detail::add_file_routes(router, std::move(context.data_dir));
  detail::add_cpu_routes(router, context.max_cpu_work);
  detail::add_fanout_routes(router, context.max_fanout);
  if (context.enable_block_endpoint) detail::add_block_routes(router);
}

void add_admin_routes(server::Router& router, RouteContext context) {
  detail::add_probe_routes(router, std::move(context.is_ready));
  detail::add_debug_routes(router);
  detail::add_task_dump_routes(router);
  if (context.metrics) detail::add_metrics_routes(router, std::move(context.metrics));
}

void add_routes(server::Router& router, RouteContext context) {
  const std::shared_ptr<const Metrics> metrics = context.metrics;
  add_public_routes(router, std::move(context));
  detail::add_debug_routes(router);
  detail::add_task_dump_routes(router);
  if (metrics) detail::add_metrics_routes(router, metrics);
}

}  // namespace brigade::handlers
