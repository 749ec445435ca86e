// accuracy: one output unit -> binary, prediction p > 0.5 against a 0/1 target (Keras
// binary_accuracy); several units -> argmax against a class index or a one-hot row.
#include <algorithm>

#include "anneal/metric.hpp"

namespace anneal {
namespace {

class Accuracy : public Metric {
 public:
  explicit Accuracy(AttrMap&) {}
  std::string check(const Shape& out, int64_t target_width) const override {
    const int64_t width = out.numel();
    if (width == 1 && target_width != 1) return "binary accuracy needs one target column";
    if (width > 1 && target_width != 1 && target_width != width)
      return "needs a class-index column or " + std::to_string(width) + " one-hot columns, the data gives " +
             std::to_string(target_width);
    return {};
  }
  double batch_sum(const float* p, const float* y, int64_t batch, int64_t width,
                   int64_t target_width) const override {
    double correct = 0;
    if (width == 1) {
      for (int64_t i = 0; i < batch; ++i) correct += (p[i] > 0.5f ? 1.0f : 0.0f) == y[i];
      return correct;
    }
    for (int64_t r = 0; r < batch; ++r) {
      const float* row = p + r * width;
      const auto predicted = std::max_element(row, row + width) - row;
      const auto actual = target_width == 1 ? static_cast<int64_t>(y[r])
                                            : std::max_element(y + r * width, y + (r + 1) * width) - (y + r * width);
      correct += predicted == actual;
    }
    return correct;
  }
};

ANNEAL_REGISTER(MetricRegistry, "accuracy", Accuracy);

}  // namespace
}  // namespace anneal
