#pragma once

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "brigade/server/server.hpp"

namespace brigade::handlers::detail {

// The brigade_http_* families. Every label value is resolved to a small integer once: the
// method against a fixed list, the route by Request::route_index, the status code by an array
// indexed by the code. A request then costs a handful of relaxed atomic additions on counters
// created at start: no map lookup, no lock, no allocation. (prometheus::Histogram takes a mutex
// per observation, hence plain atomics here and MetricFamily values built at scrape time.)
//
// The per-request counters come in stripes, one per worker: each thread adds to its own, and a
// scrape adds the stripes up. With one shared set, two workers answering the same route passed
// the same cache lines back and forth on every request (metrics_bench: 34 ns of CPU a request
// on one thread, 278 to 402 ns on each of two at once; 34 with a stripe each).
//
// Label values are bounded: methods outside the list count as "other", paths no route matches
// as route="unmatched", status codes the server has no reason phrase for as code="other".
// A series appears in the scrape once it has counted something.
class HttpMetrics final : public server::RequestObserver, public prometheus::Collectable {
 public:
  // `patterns`: Router::patterns(), whose positions are the requests' route_index. `threads`:
  // how many threads count requests at once (the runtime's workers); more share stripes.
  explicit HttpMetrics(const std::vector<std::string_view>& patterns, std::size_t threads);

  void on_request(const server::Request& request, const server::Exchange& exchange) override;
  void on_request_cancelled(const server::Request& request) override;
  void on_connection_opened() override;
  void on_connection_closed() override;
  void on_connection_rejected(server::RejectReason reason) override;
  void on_timeout(server::TimeoutPhase phase) override;

  std::vector<prometheus::MetricFamily> Collect() const override;

  // Upper bounds of the duration histogram's buckets, from 0.5 ms to 10 s (+Inf is implied).
  static constexpr std::array<std::chrono::nanoseconds, 14> kDurationBounds{
      std::chrono::microseconds(500),  std::chrono::milliseconds(1),
      std::chrono::microseconds(2500), std::chrono::milliseconds(5),
      std::chrono::milliseconds(10),   std::chrono::milliseconds(25),
      std::chrono::milliseconds(50),   std::chrono::milliseconds(100),
      std::chrono::milliseconds(250),  std::chrono::milliseconds(500),
      std::chrono::seconds(1),         std::chrono::milliseconds(2500),
      std::chrono::seconds(5),         std::chrono::seconds(10)};

 private:
  using Counter = std::atomic<std::uint64_t>;

  // Status codes 0..kMaxStatus are indexed directly; anything else is "other".
  static constexpr int kMaxStatus = 599;

  static constexpr std::size_t kBuckets = kDurationBounds.size() + 1;  // the last is +Inf

  // A series is one (method, route) pair: method slot * routes_.size() + route slot.
  std::size_t series_of(const server::Request& request) const noexcept;
  std::size_t route_slot(const server::Request& request) const noexcept;
  std::size_t code_slot(int status) const noexcept;

  std::vector<std::string> routes_;  // the label of each route slot; the last is "unmatched"
  std::vector<std::string> codes_;   // the label of each code slot; the last is "other"
  std::array<std::uint16_t, kMaxStatus + 1> slot_of_status_{};

  // What on_request counts, for the threads that add to this stripe. Flat arrays indexed by
  // series (times the code slots, or the buckets).
  struct alignas(64) Stripe {
    std::vector<Counter> requests;         // series * codes_.size() + code slot
    std::vector<Counter> buckets;          // series * kBuckets + bucket; not cumulative
    std::vector<Counter> duration_sum_ns;  // series
    Counter request_bytes{0};
    Counter response_bytes{0};
  };
  Stripe& this_thread_stripe() noexcept;
  template <class Read>
  std::uint64_t sum_over_stripes(Read read) const noexcept;

  std::unique_ptr<Stripe[]> stripes_;
  std::size_t stripe_mask_ = 0;  // stripes: a power of two, this plus one

  std::vector<Counter> cancelled_;  // route slot
  Counter connections_total_{0};
  std::atomic<std::int64_t> connections_active_{0};
  // Indexed by RejectReason and TimeoutPhase.
  std::array<Counter, 3> rejected_{};
  std::array<Counter, 4> timeouts_{};
};

}  // namespace brigade::handlers::detail
