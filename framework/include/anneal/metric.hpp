#pragma once
// Metrics are summed over samples and divided by the sample count at the end of an epoch.

#include <cstdint>
#include <string>

#include "anneal/attr_map.hpp"
#include "anneal/registry.hpp"
#include "anneal/shape.hpp"

namespace anneal {

class Metric {
 public:
  virtual ~Metric() = default;
  virtual std::string check(const Shape& output, int64_t target_width) const = 0;
  // Sum of the per-sample metric over the batch.
  virtual double batch_sum(const float* output, const float* target, int64_t batch, int64_t width,
                           int64_t target_width) const = 0;
};

using MetricRegistry = Registry<Metric, AttrMap&>;

}  // namespace anneal
