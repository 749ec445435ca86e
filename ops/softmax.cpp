// softmax over the last axis, per row: y_j = e^(x_j - max) / sum_k e^(x_k - max);
// dx_j = y_j (dy_j - sum_k dy_k y_k).
#include <algorithm>
#include <cmath>

#include "anneal/activation.hpp"

namespace anneal {
namespace {

class Softmax : public ActivationOp {
 public:
  explicit Softmax(AttrMap&) {}
  bool uses_input() const override { return false; }
  std::string export_activation(ExportGraph& g, const std::string& x) const override {
    return g.node("Softmax", {x}, {{"axis", int64_t{-1}}});
  }

  void activate(const float* x, float* y, int64_t rows, int64_t width) const override {
    for (int64_t r = 0; r < rows; ++r) {
      const float* in = x + r * width;
      float* row = y + r * width;
      const float top = *std::max_element(in, in + width);
      double sum = 0;
      for (int64_t j = 0; j < width; ++j) sum += row[j] = std::exp(in[j] - top);
      const float inv = static_cast<float>(1.0 / sum);
      for (int64_t j = 0; j < width; ++j) row[j] *= inv;
    }
  }

  void activate_backward(const float*, const float* y, const float* dy, float* dx, int64_t rows, int64_t width,
                         bool accumulate) const override {
    for (int64_t r = 0; r < rows; ++r) {
      const float* yr = y + r * width;
      const float* gr = dy + r * width;
      float* out = dx + r * width;
      double dot = 0;
      for (int64_t j = 0; j < width; ++j) dot += static_cast<double>(gr[j]) * yr[j];
      for (int64_t j = 0; j < width; ++j) {
        const float v = yr[j] * (gr[j] - static_cast<float>(dot));
        out[j] = accumulate ? out[j] + v : v;
      }
    }
  }
};

ANNEAL_REGISTER(OpRegistry, "softmax", Softmax);

}  // namespace
}  // namespace anneal
