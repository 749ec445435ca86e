// mse: mean squared error over every output.
#include <cmath>

#include "anneal/regression_metric.hpp"

namespace anneal {
namespace {

struct Term {
  double operator()(double d) const { return d * d; }
};

using Metric_ = ElementwiseMetric<Term, false>;
ANNEAL_REGISTER(MetricRegistry, "mse", Metric_);

}  // namespace
}  // namespace anneal
