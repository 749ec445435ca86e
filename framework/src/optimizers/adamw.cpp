// AdamW as PyTorch computes it (defaults lr 1e-3, betas 0.9 / 0.999, eps 1e-8, weight_decay 1e-2):
//   w -= lr wd w                                  (decoupled decay, before the Adam step)
//   m = b1 m + (1-b1) g;  v = b2 v + (1-b2) g^2
//   w -= (lr / (1 - b1^t)) m / (sqrt(v) / sqrt(1 - b2^t) + eps)
// amsgrad: v_max = max(v_max, v) replaces v in the denominator.
#include <algorithm>
#include <cmath>
#include <vector>

#include "moments.hpp"

namespace anneal {
namespace {

class AdamW : public MomentOptimizer {
 public:
  explicit AdamW(AttrMap& a)
      : MomentOptimizer(a, 1e-8),
        weight_decay_(a.get<double>("weight_decay", 0.01)),
        amsgrad_(a.get<bool>("amsgrad", false)) {
    a.require(weight_decay_ >= 0, "weight_decay", "must be >= 0");
  }

  void prepare(int64_t n) override {
    MomentOptimizer::prepare(n);
    if (amsgrad_) v_max_.assign(static_cast<size_t>(n), 0.0f);
  }
  std::vector<std::span<float>> state() override {
    if (amsgrad_) return {m_, v_, v_max_};
    return {m_, v_};
  }

 protected:
  bool update_is_elementwise() const override { return true; }
  void update(const UpdateSlice& s) override {
    const double t = static_cast<double>(iterations() + 1);
    const float step = static_cast<float>(s.lr / (1 - std::pow(beta_1_, t)));
    const float root_bc2 = static_cast<float>(std::sqrt(1 - std::pow(beta_2_, t)));
    const float b1 = static_cast<float>(beta_1_), b2 = static_cast<float>(beta_2_);
    const float eps = static_cast<float>(epsilon_);
    const float shrink = 1.0f - s.lr * static_cast<float>(weight_decay_) * s.decay_mult;
    float* m = m_.data() + s.offset;
    float* v = v_.data() + s.offset;
    float* v_max = amsgrad_ ? v_max_.data() + s.offset : nullptr;
    for (size_t i = 0; i < s.w.size(); ++i) {
      const float g = s.g[i];
      s.w[i] *= shrink;
      m[i] = b1 * m[i] + (1 - b1) * g;
      v[i] = b2 * v[i] + (1 - b2) * g * g;
      float second = v[i];
      if (v_max) second = v_max[i] = std::max(v_max[i], v[i]);
      s.w[i] -= step * m[i] / (std::sqrt(second) / root_bc2 + eps);
    }
  }

 private:
  double weight_decay_;
  bool amsgrad_;
  std::vector<float> v_max_;
};

ANNEAL_REGISTER(OptimizerRegistry, "adamw", AdamW);

}  // namespace
}  // namespace anneal
