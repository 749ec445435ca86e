// r2: the coefficient of determination 1 - SS_res / SS_tot per output, averaged over outputs
// (scikit-learn's r2_score, multioutput='uniform_average'). A constant target has no variance:
// r2 is then 1 for a perfect fit and 0 otherwise, as scikit-learn reports.
#include <cmath>

#include "anneal/regression_metric.hpp"

namespace anneal {
namespace {

class R2 : public Metric {
 public:
  explicit R2(AttrMap&) {}
  std::string check(const Shape& out, int64_t target_width) const override { return regression_check(out, target_width); }
  // state[0]: rows; per output j: sum y, sum y^2, sum (y - p)^2.
  size_t state_size(int64_t width, int64_t, int64_t) const override { return 1 + 3 * static_cast<size_t>(width); }
  void accumulate(std::span<double> state, const float* p, const float* y, int64_t batch, int64_t width, int64_t) const override {
    for (int64_t r = 0; r < batch; ++r)
      for (int64_t j = 0; j < width; ++j) {
        const double t = y[r * width + j], d = t - p[r * width + j];
        state[static_cast<size_t>(1 + 3 * j)] += t;
        state[static_cast<size_t>(2 + 3 * j)] += t * t;
        state[static_cast<size_t>(3 + 3 * j)] += d * d;
      }
    state[0] += static_cast<double>(batch);
  }
  double result(std::span<const double> state, int64_t width, int64_t) const override {
    const double n = state[0];
    if (n <= 0) return NAN;
    double total = 0;
    for (int64_t j = 0; j < width; ++j) {
      const double sum = state[static_cast<size_t>(1 + 3 * j)], squares = state[static_cast<size_t>(2 + 3 * j)];
      const double residual = state[static_cast<size_t>(3 + 3 * j)];
      const double spread = squares - sum * sum / n;
      total += spread > 1e-12 * std::max(1.0, squares) ? 1.0 - residual / spread : (residual == 0 ? 1.0 : 0.0);
    }
    return total / static_cast<double>(width);
  }
};

ANNEAL_REGISTER(MetricRegistry, "r2", R2);

}  // namespace
}  // namespace anneal
