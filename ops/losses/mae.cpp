// mae: mean absolute error, mean(|p - y|) over every output (the gradient at p == y is 0).
#include <cmath>

#include "anneal/loss.hpp"

namespace anneal {
namespace {

class MeanAbsoluteError : public Loss {
 public:
  explicit MeanAbsoluteError(AttrMap&) {}
  std::string check(const Shape& out, int64_t target_width) const override {
    if (out.numel() != target_width)
      return "needs one target column per output (" + std::to_string(out.numel()) + "), the data gives " +
             std::to_string(target_width);
    return {};
  }
  double forward_backward(const float* p, const float* y, int64_t batch, int64_t width, int64_t,
                          float* grad) const override {
    const int64_t n = batch * width;
    const float scale = 1.0f / static_cast<float>(n);
    double total = 0;
    for (int64_t i = 0; i < n; ++i) {
      const double d = p[i] - y[i]; total += std::abs(d); if (grad) grad[i] = static_cast<float>((d > 0) - (d < 0)) * scale;
    }
    return total / static_cast<double>(n);
  }
};

ANNEAL_REGISTER(LossRegistry, "mae", MeanAbsoluteError);

}  // namespace
}  // namespace anneal
