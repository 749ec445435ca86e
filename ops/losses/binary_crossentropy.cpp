// binary_crossentropy (Keras): p clipped to [1e-7, 1 - 1e-7];
// loss = -mean(y log p + (1 - y) log(1 - p)) over every output of every sample.
#include <cmath>

#include "anneal/crossentropy.hpp"
#include "anneal/loss.hpp"

namespace anneal {
namespace {

class BinaryCrossentropy : public Loss {
 public:
  explicit BinaryCrossentropy(AttrMap&) {}
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
      const float q = clip_probability(p[i]);
      total -= y[i] * std::log(q) + (1.0f - y[i]) * std::log(1.0f - q);
      if (grad) grad[i] = clipped(p[i]) ? 0.0f : (p[i] - y[i]) / (p[i] * (1.0f - p[i])) * scale;
    }
    return total / static_cast<double>(n);
  }
};

ANNEAL_REGISTER(LossRegistry, "binary_crossentropy", BinaryCrossentropy);

}  // namespace
}  // namespace anneal
