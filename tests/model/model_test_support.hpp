// What every model test does with the checker's report: print the count, fail with the schedule.
#pragma once

#include <gtest/gtest.h>

#include <cstdio>
#include <functional>

#include "brigade_model/checker.hpp"

namespace brigade::model {

// Explores `body` and expects no failure; prints how many interleavings it took.
inline Report expect_every_interleaving_passes(const std::function<void()>& body,
                                               const Options& options = {}) {
  Report report = explore(body, options);
  std::printf("[ model    ] %s (preemption bound %d)\n", report.describe().c_str(),
              options.preemption_bound);
  EXPECT_FALSE(report.failure.has_value()) << report.describe();
  return report;
}

}  // namespace brigade::model
