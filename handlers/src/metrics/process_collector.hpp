#pragma once

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

#include <optional>
#include <vector>

namespace brigade::handlers::detail {

// The standard process_* families (the names every Prometheus client library uses), read from
// /proc/self at scrape time. A value that cannot be read is left out of the scrape rather than
// reported as zero.
class ProcessCollector final : public prometheus::Collectable {
 public:
  ProcessCollector();

  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  // Fixed for the life of the process: read once.
  std::optional<double> start_time_seconds_;
};

}  // namespace brigade::handlers::detail
