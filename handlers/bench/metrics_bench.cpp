// What the HTTP metrics cost a request: RequestObserver::on_request as the server calls it,
// on one thread and on two at once (two workers: a stripe of counters each), and what a scrape
// costs.
#include <benchmark/benchmark.h>

#include <chrono>
#include <memory>

#include "brigade/handlers/metrics.hpp"
#include "brigade/handlers/routes.hpp"
#include "brigade/runtime/runtime.hpp"
#include "brigade/server/router.hpp"

namespace {

using namespace brigade;

// The program's routes and metrics, as serve.cpp wires them for two workers (the runtime is only
// read at scrape time, and stays idle).
struct Fixture {
  runtime::Runtime runtime = runtime::Builder::multi_thread().worker_threads(2).build();
  std::shared_ptr<handlers::Metrics> metrics =
      std::make_shared<handlers::Metrics>(runtime.handle());
  server::Router router;
  std::shared_ptr<server::RequestObserver> observer;

  Fixture() {
    handlers::add_routes(router, {.is_ready = {}, .metrics = metrics});
    observer = metrics->observe_http(router);
  }

  server::Request routed(const char* method, const char* target) const {
    server::Request request;
    request.method = method;
    request.target = target;
    static_cast<void>(router.route(request));
    return request;
  }
};

Fixture& fixture() {
  static Fixture instance;
  return instance;
}

void BM_ObserveRequest(benchmark::State& state) {
  Fixture& f = fixture();
  const server::Request request = f.routed("GET", "/sleep?ms=1");
  for (auto _ : state) {
    f.observer->on_request(request, {.status = 200,
                                     .request_bytes = 80,
                                     .response_bytes = 120,
                                     .duration = std::chrono::microseconds(700)});
  }
}
BENCHMARK(BM_ObserveRequest);
BENCHMARK(BM_ObserveRequest)->Threads(2);

void BM_ObserveUnmatchedRequest(benchmark::State& state) {
  Fixture& f = fixture();
  const server::Request request = f.routed("BREW", "/nope/xyz");
  for (auto _ : state) {
    f.observer->on_request(request, {.status = 404,
                                     .request_bytes = 80,
                                     .response_bytes = 120,
                                     .duration = std::chrono::milliseconds(3)});
  }
}
BENCHMARK(BM_ObserveUnmatchedRequest);

void BM_Scrape(benchmark::State& state) {
  Fixture& f = fixture();
  const server::Request request = f.routed("GET", "/json");
  f.observer->on_request(request, {.status = 200,
                                   .request_bytes = 80,
                                   .response_bytes = 120,
                                   .duration = std::chrono::microseconds(700)});
  for (auto _ : state) benchmark::DoNotOptimize(f.metrics->scrape());
}
BENCHMARK(BM_Scrape);

}  // namespace

BENCHMARK_MAIN();
