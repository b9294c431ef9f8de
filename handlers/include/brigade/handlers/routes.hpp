#pragma once

#include <cstddef>
#include <filesystem>
#include <functional>
#include <memory>

#include "brigade/server/router.hpp"

namespace brigade::handlers {

class Metrics;  // brigade/handlers/metrics.hpp

// What the endpoints need from the program that serves them. The composition root fills it in;
// the handlers never see the Server or the configuration themselves.
struct RouteContext {
  // Whether the server takes new work: /readyz answers 200 while it returns true and 503 once
  // it returns false (draining). Called on a worker thread for each probe, so it must be cheap
  // and thread-safe. Unset: always ready.
  std::function<bool()> is_ready;
  // What GET /metrics serves. Unset: no /metrics route.
  std::shared_ptr<const Metrics> metrics;
  // The directory GET /files/{name}/sha256 reads from; nothing outside it is reachable.
  std::filesystem::path data_dir = "./data";
  // POST /hash bodies larger than this many bytes are hashed on the blocking pool; smaller ones
  // on the worker (the hop to the pool costs more than hashing a small body).
  std::size_t hash_offload_threshold = 64 * 1024;
  // Whether GET /block is registered; off, it is an unknown path (404).
  bool enable_block_endpoint = false;
  // Upper bounds of GET /cpu?work= and GET /fanout?n= (larger values get 400).
  std::size_t max_cpu_work = 100'000;
  std::size_t max_fanout = 1'000;
};

// Registers the endpoints on `router`:
//   GET  /          "Hello, World!" (text/plain)
//   GET  /json      {"message":"Hello, World!"}
//   POST /echo      the request body back, with the request's Content-Type
//   GET  /sleep?ms= waits ms (0..60000) on an async timer, then {"slept_ms":ms}
//   GET  /healthz   200 {"status":"ok"} while the process runs
//   GET  /readyz    200 while serving, 503 while draining
//   GET  /metrics   the Prometheus text exposition of context.metrics (when set)
//   POST /hash      {"sha256":"<hex>","bytes":N} of the body; above hash_offload_threshold
//                   bytes, hashed on the blocking pool
//   GET  /files/{name}/sha256
//                   {"name":..,"sha256":..,"bytes":N} of the regular file `name` directly in
//                   data_dir, read on the blocking pool; 400 for a name that is not one path
//                   component, 404 for a missing file, a symbolic link or a non-regular file
//   GET  /cpu?work= work (1..max_cpu_work) chained SHA-256 rounds over 1 KiB on the blocking pool:
//                   {"work":N,"sha256":"<hex>"}
//   GET  /fanout?n=&ms=
//                   spawns n (0..max_fanout) tasks that sleep ms (0..10000) each, joins them:
//                   {"tasks":n,"ms":ms,"joined":n,"elapsed_ms":E}
//   GET  /block?ms= blocks the worker thread ms (0..10000): only if enable_block_endpoint
//   GET  /debug/runtime
//                   the runtime metrics snapshot as JSON
//   GET  /debug/tasks[?format=json]
//                   every live task (id, spawn site, state, route being served): text grouped
//                   by spawn site with counts, or every task as JSON
// Bad parameters get 400 with {"error":"..."}. The endpoints that use the blocking pool (/hash
// above the threshold, /files, /cpu) answer 503 with Retry-After when its queue is full.
// Throws std::invalid_argument if `router` already has one of these routes.
void add_routes(server::Router& router, RouteContext context);

// The same endpoints split between two ports, for a server with an admin listener:
// add_public_routes registers the application endpoints and the probes (/healthz, /readyz: a
// load balancer that sees only the public port still needs them); add_admin_routes registers the
// probes, /metrics and /debug/*, which say how the process is built and loaded and so stay off the
// public port.
void add_public_routes(server::Router& router, RouteContext context);
void add_admin_routes(server::Router& router, RouteContext context);

}  // namespace brigade::handlers
