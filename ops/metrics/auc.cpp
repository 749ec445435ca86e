// auc: area under the ROC curve of a binary classifier (one output unit, 0/1 targets), exact:
// the Mann-Whitney statistic over every (positive, negative) pair with ties counted one half,
// computed from the ranks of all the epoch's scores (scikit-learn's roc_auc_score; Keras bins the
// scores into 200 thresholds instead). With only one class present the AUC is undefined: NaN.
#include <algorithm>
#include <cmath>
#include <vector>

#include "anneal/metric.hpp"

namespace anneal {
namespace {

class Auc : public Metric {
 public:
  explicit Auc(AttrMap&) {}
  std::string check(const Shape& out, int64_t target_width) const override {
    if (out.numel() != 1 || target_width != 1) return "is binary: it needs one output unit and one 0/1 target column";
    return {};
  }
  // state[0]: rows so far; then (score, label) pairs.
  size_t state_size(int64_t, int64_t, int64_t rows) const override { return 1 + 2 * static_cast<size_t>(rows); }
  void accumulate(std::span<double> state, const float* p, const float* y, int64_t batch, int64_t, int64_t) const override {
    auto at = static_cast<size_t>(state[0]);
    for (int64_t r = 0; r < batch && 1 + 2 * at + 1 < state.size(); ++r, ++at) {
      state[1 + 2 * at] = p[r];
      state[2 + 2 * at] = y[r] > 0.5f ? 1.0 : 0.0;
    }
    state[0] = static_cast<double>(at);
  }
  double result(std::span<const double> state, int64_t, int64_t) const override {
    const auto n = static_cast<size_t>(state[0]);
    std::vector<std::pair<double, double>> scored(n);
    for (size_t i = 0; i < n; ++i) scored[i] = {state[1 + 2 * i], state[2 + 2 * i]};
    std::sort(scored.begin(), scored.end());
    double positives = 0, rank_sum = 0;
    for (size_t i = 0; i < n;) {
      size_t j = i;
      while (j < n && scored[j].first == scored[i].first) ++j;
      const double mid_rank = (static_cast<double>(i + j) + 1.0) / 2.0;  // ranks i+1 .. j, averaged
      for (size_t k = i; k < j; ++k)
        if (scored[k].second > 0) positives += 1, rank_sum += mid_rank;
      i = j;
    }
    const double negatives = static_cast<double>(n) - positives;
    if (positives == 0 || negatives == 0) return NAN;
    return (rank_sum - positives * (positives + 1) / 2) / (positives * negatives);
  }
};

ANNEAL_REGISTER(MetricRegistry, "auc", Auc);

}  // namespace
}  // namespace anneal
