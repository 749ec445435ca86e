// precision: tp / (tp + fp); binary for one output unit (threshold, default 0.5), macro-averaged
// over the classes for several (see ConfusionMetric).
#include "anneal/metric.hpp"

namespace anneal {
namespace {

class PrecisionMetric : public ConfusionMetric {
 public:
  using ConfusionMetric::ConfusionMetric;
  double score(double tp, double fp, double fn) const override {
    (void)fp, (void)fn;
    return tp + fp > 0 ? tp / (tp + fp) : 0.0;
  }
};

ANNEAL_REGISTER(MetricRegistry, "precision", PrecisionMetric);

}  // namespace
}  // namespace anneal
