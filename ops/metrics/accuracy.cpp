// accuracy: one output unit -> binary, prediction p > threshold (default 0.5; 0 for logits)
// against a 0/1 target (Keras binary_accuracy); several units -> argmax against a class index or
// a one-hot row.
#include "anneal/metric.hpp"

namespace anneal {
namespace {

class Accuracy : public MeanMetric {
 public:
  explicit Accuracy(AttrMap& a) : threshold_(static_cast<float>(a.get<double>("threshold", 0.5))) {}
  std::string check(const Shape& out, int64_t target_width) const override { return classification_check(out, target_width); }
  double batch_sum(const float* p, const float* y, int64_t batch, int64_t width, int64_t tw) const override {
    double correct = 0;
    for (int64_t r = 0; r < batch; ++r) {
      if (width == 1) correct += (p[r] > threshold_ ? 1.0f : 0.0f) == y[r];
      else correct += predicted_class(p + r * width, width) == target_class(y + r * tw, width, tw);
    }
    return correct;
  }

 private:
  float threshold_;
};

ANNEAL_REGISTER(MetricRegistry, "accuracy", Accuracy);

}  // namespace
}  // namespace anneal
