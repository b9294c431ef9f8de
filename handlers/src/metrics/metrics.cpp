#include "brigade/handlers/metrics.hpp"

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>
#include <prometheus/text_serializer.h>

#include <iterator>
#include <sstream>
#include <utility>

#include "metrics/family.hpp"
#include "metrics/http_metrics.hpp"
#include "metrics/process_collector.hpp"
#include "metrics/runtime_collector.hpp"

namespace brigade::handlers {
namespace {

// brigade_server_draining, read at scrape time.
class DrainingCollector final : public prometheus::Collectable {
 public:
  explicit DrainingCollector(std::function<bool()> is_draining)
      : is_draining_(std::move(is_draining)) {}

  std::vector<prometheus::MetricFamily> Collect() const override {
    return {detail::single("brigade_server_draining",
                           "1 from the shutdown signal on (readiness answers 503), else 0.",
                           prometheus::MetricType::Gauge, is_draining_() ? 1 : 0)};
  }

 private:
  std::function<bool()> is_draining_;
};

// brigade_access_log_{written,dropped}_total, read at scrape time.
class AccessLogCollector final : public prometheus::Collectable {
 public:
  explicit AccessLogCollector(std::function<Metrics::AccessLogCounts()> counts)
      : counts_(std::move(counts)) {}

  std::vector<prometheus::MetricFamily> Collect() const override {
    const Metrics::AccessLogCounts counts = counts_();
    return {detail::single("brigade_access_log_written_total",
                           "Access log lines written to the access_log destination.",
                           prometheus::MetricType::Counter, static_cast<double>(counts.written)),
            detail::single("brigade_access_log_dropped_total",
                           "Access log lines dropped: the writer's queue was full (the destination "
                           "is slower than the requests) or writing failed.",
                           prometheus::MetricType::Counter, static_cast<double>(counts.dropped))};
  }

 private:
  std::function<Metrics::AccessLogCounts()> counts_;
};

}  // namespace

Metrics::Metrics(runtime::Handle runtime) : workers_(runtime.metrics().workers) {
  collectables_.push_back(std::make_shared<detail::RuntimeCollector>(std::move(runtime)));
  collectables_.push_back(std::make_shared<detail::ProcessCollector>());
}

std::shared_ptr<server::RequestObserver> Metrics::observe_http(const server::Router& router) {
  auto http = std::make_shared<detail::HttpMetrics>(router.patterns(), workers_);
  collectables_.push_back(http);
  return http;
}

void Metrics::observe_draining(std::function<bool()> is_draining) {
  collectables_.push_back(std::make_shared<DrainingCollector>(std::move(is_draining)));
}

void Metrics::observe_access_log(std::function<AccessLogCounts()> counts) {
  collectables_.push_back(std::make_shared<AccessLogCollector>(std::move(counts)));
}

std::string Metrics::scrape() const {
  std::vector<prometheus::MetricFamily> families;
  for (const auto& collectable : collectables_) {
    auto collected = collectable->Collect();
    families.insert(families.end(), std::make_move_iterator(collected.begin()),
                    std::make_move_iterator(collected.end()));
  }
  std::ostringstream text;
  prometheus::TextSerializer{}.Serialize(text, families);
  return std::move(text).str();
}

}  // namespace brigade::handlers
