// rmse: the square root of the mean squared error over the epoch (not a mean of batch roots).
#include <cmath>

#include "anneal/regression_metric.hpp"

namespace anneal {
namespace {

struct Term {
  double operator()(double d) const { return d * d; }
};

using Metric_ = ElementwiseMetric<Term, true>;
ANNEAL_REGISTER(MetricRegistry, "rmse", Metric_);

}  // namespace
}  // namespace anneal
