// mae: mean absolute error over every output.
#include <cmath>

#include "anneal/regression_metric.hpp"

namespace anneal {
namespace {

struct Term {
  double operator()(double d) const { return std::abs(d); }
};

using Metric_ = ElementwiseMetric<Term, false>;
ANNEAL_REGISTER(MetricRegistry, "mae", Metric_);

}  // namespace
}  // namespace anneal
