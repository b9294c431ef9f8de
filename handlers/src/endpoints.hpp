#pragma once

#include <cstddef>
#include <filesystem>
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
// POST /hash
void add_hash_routes(server::Router& router, std::size_t offload_threshold);
// GET /files/{name}/sha256
void add_file_routes(server::Router& router, std::filesystem::path data_dir);
// GET /cpu?work= (1..max_work)
void add_cpu_routes(server::Router& router, std::size_t max_work);
// GET /fanout?n=&ms= (n: 0..max_tasks)
void add_fanout_routes(server::Router& router, std::size_t max_tasks);
// GET /block?ms=
void add_block_routes(server::Router& router);
// GET /debug/runtime
void add_debug_routes(server::Router& router);
// GET /debug/tasks[?format=json]
void add_task_dump_routes(server::Router& router);

}  // namespace brigade::handlers::detail
