// sparse_categorical_crossentropy (Keras): one target column holding the class index;
// from_logits: true applies a stable log-softmax to the output itself.
#include <cmath>
#include <cstdio>

#include "anneal/crossentropy.hpp"
#include "anneal/errors.hpp"
#include "anneal/loss.hpp"

namespace anneal {
namespace {

class SparseCategoricalCrossentropy : public Loss {
 public:
  explicit SparseCategoricalCrossentropy(AttrMap& a) : from_logits_(a.get<bool>("from_logits", false)) {}
  bool classifies() const override { return true; }
  std::string check(const Shape& out, int64_t target_width) const override {
    if (out.back() < 2) return "needs at least 2 output units, got " + std::to_string(out.back());
    if (target_width != 1)
      return "needs one target column of class indices, the data gives " + std::to_string(target_width);
    return {};
  }
  std::string target_problem(const float* y, int64_t, int64_t width) const override {
    const auto label = static_cast<int64_t>(y[0]);
    if (label < 0 || label >= width || static_cast<float>(label) != y[0])
    {
      char text[32];
      std::snprintf(text, sizeof text, "%g", static_cast<double>(y[0]));
      return "needs class indices 0 to " + std::to_string(width - 1) + " (one per output unit), got " + text;
    }
    return {};
  }
  double forward_backward(const float* p, const float* y, int64_t batch, int64_t width, int64_t,
                          float* grad) const override {
    const float scale = 1.0f / static_cast<float>(batch);
    double total = 0;
    for (int64_t r = 0; r < batch; ++r) {
      const auto label = static_cast<int64_t>(y[r]);
      if (label < 0 || label >= width || static_cast<float>(label) != y[r])
        throw RuntimeFailure("sparse_categorical_crossentropy: label " + std::to_string(y[r]) +
                             " is not a class index of the model's " + std::to_string(width) + " outputs");
      total += (from_logits_ ? categorical_logits_row : categorical_row)(p + r * width, nullptr, label, width, grad ? grad + r * width : nullptr, scale);
    }
    return total / static_cast<double>(batch);
  }

 private:
  bool from_logits_;
};

ANNEAL_REGISTER(LossRegistry, "sparse_categorical_crossentropy", SparseCategoricalCrossentropy);

}  // namespace
}  // namespace anneal
