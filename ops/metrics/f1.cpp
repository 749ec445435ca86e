// f1: the harmonic mean of precision and recall, 2 tp / (2 tp + fp + fn); binary for one output unit (threshold, default 0.5), macro-averaged
// over the classes for several (see ConfusionMetric).
#include "anneal/metric.hpp"

namespace anneal {
namespace {

class F1Metric : public ConfusionMetric {
 public:
  using ConfusionMetric::ConfusionMetric;
  double score(double tp, double fp, double fn) const override {
    (void)fp, (void)fn;
    return 2 * tp + fp + fn > 0 ? 2 * tp / (2 * tp + fp + fn) : 0.0;
  }
};

ANNEAL_REGISTER(MetricRegistry, "f1", F1Metric);

}  // namespace
}  // namespace anneal
