#pragma once

#include <prometheus/client_metric.h>
#include <prometheus/metric_family.h>
#include <prometheus/metric_type.h>

#include <string>
#include <utility>
#include <vector>

// Small builders for the MetricFamily values the collectors return at scrape time.
namespace brigade::handlers::detail {

inline prometheus::MetricFamily family(std::string name, std::string help,
                                       prometheus::MetricType type) {
  prometheus::MetricFamily result;
  result.name = std::move(name);
  result.help = std::move(help);
  result.type = type;
  return result;
}

// Appends one sample to a gauge or counter family.
inline void add_sample(prometheus::MetricFamily& family, double value,
                       std::vector<prometheus::ClientMetric::Label> labels = {}) {
  prometheus::ClientMetric metric;
  metric.label = std::move(labels);
  if (family.type == prometheus::MetricType::Counter) {
    metric.counter.value = value;
  } else {
    metric.gauge.value = value;
  }
  family.metric.push_back(std::move(metric));
}

// A family of one unlabelled sample.
inline prometheus::MetricFamily single(std::string name, std::string help,
                                       prometheus::MetricType type, double value) {
  prometheus::MetricFamily result = family(std::move(name), std::move(help), type);
  add_sample(result, value);
  return result;
}

}  // namespace brigade::handlers::detail
