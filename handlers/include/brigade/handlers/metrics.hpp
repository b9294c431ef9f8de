#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "brigade/runtime/runtime.hpp"
#include "brigade/server/router.hpp"
#include "brigade/server/server.hpp"

namespace prometheus {
class Collectable;
}

namespace brigade::handlers {

// The Prometheus metrics GET /metrics serves: brigade_runtime_* (read from the runtime's
// snapshot at scrape time), brigade_http_* (counted by a server::RequestObserver) and process_*
// (read from /proc at scrape time). See handlers/README.md for the families.
class Metrics {
 public:
  // With the runtime's and the process's families.
  explicit Metrics(runtime::Handle runtime);

  // Adds the brigade_http_* families and returns the observer that counts them, for
  // ServerOptions::observer. The route label takes the patterns of `router`, so call it once,
  // after the last route is added and before serving (it must not run concurrently with
  // scrape()).
  std::shared_ptr<server::RequestObserver> observe_http(const server::Router& router);

  // Adds brigade_server_draining: 1 while `is_draining` returns true (a shutdown has begun),
  // else 0. Called at scrape time, on a worker thread. Call it before serving, like observe_http.
  void observe_draining(std::function<bool()> is_draining);

  // What the access log's writer has done with its lines so far.
  struct AccessLogCounts {
    std::uint64_t written = 0;
    std::uint64_t dropped = 0;  // its queue was full, or the destination failed
  };
  // Adds brigade_access_log_written_total and brigade_access_log_dropped_total, read from
  // `counts` at scrape time (on a worker thread). Call it before serving, like observe_http.
  void observe_access_log(std::function<AccessLogCounts()> counts);

  // Every family in the text exposition format (version 0.0.4). Thread-safe.
  std::string scrape() const;

 private:
  std::size_t workers_;  // the runtime's: the HTTP counters keep a stripe for each
  std::vector<std::shared_ptr<const prometheus::Collectable>> collectables_;
};

}  // namespace brigade::handlers
