#pragma once

#include <functional>
#include <memory>

#include "brigade/server/router.hpp"

namespace brigade::handlers {
class Metrics;  // brigade/handlers/metrics.hpp
}

// One function per endpoint group, each in its own file; routes.cpp calls them all.
namespace brigade::handlers::detail {

// GET /, GET /json
void add_hello_routes(server::Router& router);
// POST /echo
void add_echo_routes(server::Router& router);
// GET /sleep?ms=
void add_sleep_routes(server::Router& router);
// GET /healthz, GET /readyz
void add_probe_routes(server::Router& router, std::function<bool()> is_ready);
// GET /metrics
void add_metrics_routes(server::Router& router, std::shared_ptr<const Metrics> metrics);

}  // namespace brigade::handlers::detail
