#pragma once

#include <functional>

#include "brigade/server/router.hpp"

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

}  // namespace brigade::handlers::detail
