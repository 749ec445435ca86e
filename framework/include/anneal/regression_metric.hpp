#pragma once
// Regression metrics compare every output with its target column (one target column per output).

#include "anneal/metric.hpp"

namespace anneal {

inline std::string regression_check(const Shape& out, int64_t target_width) {
  if (out.numel() != target_width)
    return "needs one target column per output (" + std::to_string(out.numel()) + "), the data gives " + std::to_string(target_width);
  return {};
}

// Sums a per-element term over outputs and rows (state: sum, element count).
template <class Term, bool kRoot>
class ElementwiseMetric : public Metric {
 public:
  explicit ElementwiseMetric(AttrMap&) {}
  std::string check(const Shape& out, int64_t target_width) const override { return regression_check(out, target_width); }
  void accumulate(std::span<double> state, const float* p, const float* y, int64_t batch, int64_t width, int64_t) const override {
    for (int64_t i = 0; i < batch * width; ++i) state[0] += Term{}(static_cast<double>(p[i]) - y[i]);
    state[1] += static_cast<double>(batch * width);
  }
  double result(std::span<const double> state, int64_t, int64_t) const override {
    const double mean = state[1] > 0 ? state[0] / state[1] : 0.0;
    return kRoot ? std::sqrt(mean) : mean;
  }
};

}  // namespace anneal
