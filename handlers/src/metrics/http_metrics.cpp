#include "metrics/http_metrics.hpp"

#include <algorithm>
#include <bit>
#include <limits>
#include <string>
#include <utility>

#include "brigade/server/http.hpp"
#include "metrics/family.hpp"

namespace brigade::handlers::detail {
namespace {

using prometheus::ClientMetric;
using prometheus::MetricType;

// The method label's values; any other method (or none, for a request that did not parse)
// counts as "other", which keeps the label bounded whatever clients send.
constexpr std::array<std::string_view, 8> kMethods{"GET",    "HEAD",    "POST",  "PUT",
                                                   "DELETE", "OPTIONS", "PATCH", "other"};

// The reason and phase labels' values, in the order of server::RejectReason and TimeoutPhase.
constexpr std::array<std::string_view, 3> kRejectReasons{"max_connections", "tls_handshake_failed",
                                                         "tls_handshake_timeout"};
constexpr std::array<std::string_view, 4> kTimeoutPhases{"header", "body", "idle", "write"};

std::size_t method_slot(std::string_view method) noexcept {
  const auto known = std::find(kMethods.begin(), kMethods.end() - 1, method);
  return static_cast<std::size_t>(known - kMethods.begin());
}

// A number for the calling thread, the lowest no other live thread holds, kept until it exits.
// The threads that count requests are the workers, so with a stripe per worker each gets a stripe
// of its own, however many threads came and went before (numbering threads in the order they
// first counted would let a short-lived one push two workers onto the same stripe). Beyond
// kThreadSlots live threads, the rest share the last number.
constexpr std::size_t kThreadSlots = 1024;
// Trivially destructible: a thread that exits while statics are destroyed can still give its
// slot back.
constinit std::array<std::atomic<bool>, kThreadSlots> thread_slot_taken{};

class ThreadSlot {
 public:
  ThreadSlot() noexcept {
    while (index_ < kThreadSlots && thread_slot_taken[index_].exchange(true)) ++index_;
  }
  ThreadSlot(const ThreadSlot&) = delete;
  ThreadSlot& operator=(const ThreadSlot&) = delete;
  ~ThreadSlot() {
    if (index_ < kThreadSlots) thread_slot_taken[index_].store(false);
  }
  std::size_t index() const noexcept { return index_; }

 private:
  std::size_t index_ = 0;
};

std::size_t thread_slot() noexcept {
  thread_local const ThreadSlot slot;
  return slot.index();
}

std::uint64_t load(const std::atomic<std::uint64_t>& counter) noexcept {
  return counter.load(std::memory_order_relaxed);
}

void add(std::atomic<std::uint64_t>& counter, std::uint64_t amount) noexcept {
  counter.fetch_add(amount, std::memory_order_relaxed);
}

// A counter family with one series per value of `label`, each present from the start (at 0).
template <std::size_t N>
prometheus::MetricFamily counter_by_label(std::string name, std::string help,
                                          const std::string& label,
                                          const std::array<std::string_view, N>& values,
                                          const std::array<std::atomic<std::uint64_t>, N>& counts) {
  auto result = family(std::move(name), std::move(help), MetricType::Counter);
  for (std::size_t i = 0; i < N; ++i) {
    add_sample(result, static_cast<double>(load(counts[i])), {{label, std::string(values[i])}});
  }
  return result;
}

}  // namespace

HttpMetrics::HttpMetrics(const std::vector<std::string_view>& patterns, std::size_t threads)
    : routes_(patterns.begin(), patterns.end()) {
  routes_.emplace_back("unmatched");

  // A slot for each status the server knows a reason phrase for: the codes handlers and the
  // server answer with.
  std::vector<int> known;
  for (int status = 0; status <= kMaxStatus; ++status) {
    if (!server::reason_phrase(status).empty()) known.push_back(status);
  }
  slot_of_status_.fill(static_cast<std::uint16_t>(known.size()));
  for (std::size_t slot = 0; slot < known.size(); ++slot) {
    slot_of_status_[static_cast<std::size_t>(known[slot])] = static_cast<std::uint16_t>(slot);
    codes_.push_back(std::to_string(known[slot]));
  }
  codes_.emplace_back("other");

  const std::size_t series = kMethods.size() * routes_.size();
  const std::size_t stripes = std::bit_ceil(std::max<std::size_t>(threads, 1));
  stripes_ = std::make_unique<Stripe[]>(stripes);
  stripe_mask_ = stripes - 1;
  for (std::size_t i = 0; i < stripes; ++i) {
    stripes_[i].requests = std::vector<Counter>(series * codes_.size());
    stripes_[i].buckets = std::vector<Counter>(series * kBuckets);
    stripes_[i].duration_sum_ns = std::vector<Counter>(series);
  }
  cancelled_ = std::vector<Counter>(routes_.size());
}

HttpMetrics::Stripe& HttpMetrics::this_thread_stripe() noexcept {
  return stripes_[thread_slot() & stripe_mask_];
}

template <class Read>
std::uint64_t HttpMetrics::sum_over_stripes(Read read) const noexcept {
  std::uint64_t sum = 0;
  for (std::size_t i = 0; i <= stripe_mask_; ++i) sum += load(read(stripes_[i]));
  return sum;
}

std::size_t HttpMetrics::route_slot(const server::Request& request) const noexcept {
  const std::size_t unmatched = routes_.size() - 1;
  return request.route.empty() ? unmatched : std::min(request.route_index, unmatched);
}

std::size_t HttpMetrics::series_of(const server::Request& request) const noexcept {
  return method_slot(request.method) * routes_.size() + route_slot(request);
}

std::size_t HttpMetrics::code_slot(int status) const noexcept {
  if (status < 0 || status > kMaxStatus) return codes_.size() - 1;
  return slot_of_status_[static_cast<std::size_t>(status)];
}

void HttpMetrics::on_request(const server::Request& request, const server::Exchange& exchange) {
  const std::chrono::nanoseconds duration = exchange.duration;
  const std::size_t series = series_of(request);
  Stripe& stripe = this_thread_stripe();
  add(stripe.requests[series * codes_.size() + code_slot(exchange.status)], 1);

  const auto bucket = static_cast<std::size_t>(
      std::lower_bound(kDurationBounds.begin(), kDurationBounds.end(), duration) -
      kDurationBounds.begin());
  add(stripe.buckets[series * kBuckets + bucket], 1);
  add(stripe.duration_sum_ns[series],
      static_cast<std::uint64_t>(std::max(duration.count(), std::chrono::nanoseconds::rep{0})));

  add(stripe.request_bytes, exchange.request_bytes);
  add(stripe.response_bytes, exchange.response_bytes);
}

void HttpMetrics::on_request_cancelled(const server::Request& request) {
  add(cancelled_[route_slot(request)], 1);
}

void HttpMetrics::on_connection_opened() {
  add(connections_total_, 1);
  connections_active_.fetch_add(1, std::memory_order_relaxed);
}

void HttpMetrics::on_connection_closed() {
  connections_active_.fetch_sub(1, std::memory_order_relaxed);
}

void HttpMetrics::on_connection_rejected(server::RejectReason reason) {
  add(rejected_[static_cast<std::size_t>(reason)], 1);
}

void HttpMetrics::on_timeout(server::TimeoutPhase phase) {
  add(timeouts_[static_cast<std::size_t>(phase)], 1);
}

std::vector<prometheus::MetricFamily> HttpMetrics::Collect() const {
  auto requests = family("brigade_http_requests_total",
                         "HTTP requests answered, by method, route pattern and status code.",
                         MetricType::Counter);
  auto durations = family("brigade_http_request_duration_seconds",
                          "From the first byte of a request until its response was written.",
                          MetricType::Histogram);

  for (std::size_t method = 0; method < kMethods.size(); ++method) {
    for (std::size_t route = 0; route < routes_.size(); ++route) {
      const std::size_t series = method * routes_.size() + route;
      const ClientMetric::Label method_label{"method", std::string(kMethods[method])};
      const ClientMetric::Label route_label{"route", routes_[route]};

      for (std::size_t code = 0; code < codes_.size(); ++code) {
        const std::size_t slot = series * codes_.size() + code;
        const std::uint64_t count = sum_over_stripes(
            [slot](const Stripe& s) -> const Counter& { return s.requests[slot]; });
        if (count == 0) continue;
        add_sample(requests, static_cast<double>(count),
                   {method_label, route_label, {"code", codes_[code]}});
      }

      ClientMetric metric;
      std::uint64_t cumulative = 0;
      for (std::size_t bucket = 0; bucket < kBuckets; ++bucket) {
        const std::size_t slot = series * kBuckets + bucket;
        cumulative +=
            sum_over_stripes([slot](const Stripe& s) -> const Counter& { return s.buckets[slot]; });
        const double bound = bucket < kDurationBounds.size()
                                 ? std::chrono::duration<double>(kDurationBounds[bucket]).count()
                                 : std::numeric_limits<double>::infinity();
        metric.histogram.bucket.push_back({cumulative, bound});
      }
      if (cumulative == 0) continue;
      // The count is the buckets' total, so a scrape racing a request stays self-consistent.
      metric.histogram.sample_count = cumulative;
      const std::uint64_t sum_ns = sum_over_stripes(
          [series](const Stripe& s) -> const Counter& { return s.duration_sum_ns[series]; });
      metric.histogram.sample_sum =
          std::chrono::duration<double>(std::chrono::nanoseconds(sum_ns)).count();
      metric.label = {method_label, route_label};
      durations.metric.push_back(std::move(metric));
    }
  }

  auto cancelled = family("brigade_http_requests_cancelled_total",
                          "Requests whose client went away while the handler ran, by route "
                          "pattern: the handler was cancelled and nothing was answered.",
                          MetricType::Counter);
  for (std::size_t route = 0; route < routes_.size(); ++route) {
    const std::uint64_t count = load(cancelled_[route]);
    if (count != 0) add_sample(cancelled, static_cast<double>(count), {{"route", routes_[route]}});
  }

  std::vector<prometheus::MetricFamily> families;
  families.push_back(std::move(requests));
  families.push_back(std::move(durations));
  families.push_back(std::move(cancelled));
  families.push_back(
      single("brigade_http_connections_active", "Connections open now.", MetricType::Gauge,
             static_cast<double>(connections_active_.load(std::memory_order_relaxed))));
  families.push_back(single("brigade_http_connections_total",
                            "Connections accepted and served since the start.", MetricType::Counter,
                            static_cast<double>(load(connections_total_))));
  families.push_back(single(
      "brigade_http_request_bytes_total", "Bytes of request heads and bodies received.",
      MetricType::Counter,
      static_cast<double>(
          sum_over_stripes([](const Stripe& s) -> const Counter& { return s.request_bytes; }))));
  families.push_back(counter_by_label("brigade_http_connections_rejected_total",
                                      "Connections closed without being served, by reason.",
                                      "reason", kRejectReasons, rejected_));
  families.push_back(counter_by_label("brigade_http_timeouts_total",
                                      "Connections closed because a deadline passed, by phase.",
                                      "phase", kTimeoutPhases, timeouts_));
  families.push_back(single(
      "brigade_http_response_bytes_total", "Bytes of response heads and bodies sent.",
      MetricType::Counter,
      static_cast<double>(
          sum_over_stripes([](const Stripe& s) -> const Counter& { return s.response_bytes; }))));
  return families;
}

}  // namespace brigade::handlers::detail
