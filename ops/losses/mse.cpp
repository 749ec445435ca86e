// mse: mean squared error, mean((p - y)^2) over every output.
#include <cmath>

#include "anneal/loss.hpp"

namespace anneal {
namespace {

class MeanSquaredError : public Loss {
 public:
  explicit MeanSquaredError(AttrMap&) {}
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
      const double d = p[i] - y[i]; total += d * d; if (grad) grad[i] = static_cast<float>(2 * d) * scale;
    }
    return total / static_cast<double>(n);
  }
};

ANNEAL_REGISTER(LossRegistry, "mse", MeanSquaredError);

}  // namespace
}  // namespace anneal
