// top_k_accuracy (k, default 5): the target class is among the k largest outputs (Keras'
// top_k_categorical_accuracy; a tie at the k-th value counts as a hit, as tf.math.in_top_k).
#include "anneal/metric.hpp"

namespace anneal {
namespace {

class TopKAccuracy : public MeanMetric {
 public:
  explicit TopKAccuracy(AttrMap& a) : k_(a.get<int64_t>("k", 5)) { a.require(k_ >= 1, "k", "must be at least 1"); }
  std::string check(const Shape& out, int64_t target_width) const override {
    if (out.numel() < 2) return "needs several output units (one per class)";
    return classification_check(out, target_width);
  }
  double batch_sum(const float* p, const float* y, int64_t batch, int64_t width, int64_t tw) const override {
    double hits = 0;
    for (int64_t r = 0; r < batch; ++r) {
      const float* row = p + r * width;
      const int64_t actual = target_class(y + r * tw, width, tw);
      if (actual < 0 || actual >= width) continue;
      int64_t above = 0;
      for (int64_t j = 0; j < width; ++j) above += row[j] > row[actual];
      hits += above < k_;
    }
    return hits;
  }

 private:
  int64_t k_;
};

ANNEAL_REGISTER(MetricRegistry, "top_k_accuracy", TopKAccuracy);

}  // namespace
}  // namespace anneal
