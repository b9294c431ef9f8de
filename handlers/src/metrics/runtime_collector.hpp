#pragma once

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

#include <utility>
#include <vector>

#include "brigade/runtime/runtime.hpp"

namespace brigade::handlers::detail {

// The brigade_runtime_* families, from one runtime metrics snapshot per scrape: gauges are the
// values at that moment, counters the totals since the runtime started. Taking the snapshot
// never stops the workers.
class RuntimeCollector final : public prometheus::Collectable {
 public:
  explicit RuntimeCollector(runtime::Handle runtime) noexcept : runtime_(std::move(runtime)) {}

  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  runtime::Handle runtime_;
};

}  // namespace brigade::handlers::detail
