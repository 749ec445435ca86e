// recall: tp / (tp + fn); binary for one output unit (threshold, default 0.5), macro-averaged
// over the classes for several (see ConfusionMetric).
#include "anneal/metric.hpp"

namespace anneal {
namespace {

class RecallMetric : public ConfusionMetric {
 public:
  using ConfusionMetric::ConfusionMetric;
  double score(double tp, double fp, double fn) const override {
    (void)fp, (void)fn;
    return tp + fn > 0 ? tp / (tp + fn) : 0.0;
  }
};

ANNEAL_REGISTER(MetricRegistry, "recall", RecallMetric);

}  // namespace
}  // namespace anneal
