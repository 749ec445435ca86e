// AdamW as PyTorch computes it (defaults lr 1e-3, betas 0.9 / 0.999, eps 1e-8, weight_decay 1e-2):
//   w -= lr wd w                                  (decoupled decay, before the Adam step)
//   m = b1 m + (1-b1) g;  v = b2 v + (1-b2) g^2
//   w -= (lr / (1 - b1^t)) m / (sqrt(v) / sqrt(1 - b2^t) + eps)
// amsgrad: v_max = max(v_max, v) replaces v in the denominator.
#include <algorithm>
#include <cmath>
#include <vector>

#include "anneal/optimizer.hpp"

namespace anneal {
namespace {

class AdamW : public Optimizer {
 public:
  explicit AdamW(AttrMap& a)
      : Optimizer(a, 0.001),
        beta_1_(a.get<double>("beta_1", 0.9)),
        beta_2_(a.get<double>("beta_2", 0.999)),
        epsilon_(a.get<double>("epsilon", 1e-8)),
        weight_decay_(a.get<double>("weight_decay", 0.01)),
        amsgrad_(a.get<bool>("amsgrad", false)) {
    a.require(beta_1_ >= 0 && beta_1_ < 1, "beta_1", "must be in [0, 1)");
    a.require(beta_2_ >= 0 && beta_2_ < 1, "beta_2", "must be in [0, 1)");
    a.require(epsilon_ > 0, "epsilon", "must be > 0");
    a.require(weight_decay_ >= 0, "weight_decay", "must be >= 0");
  }

  void prepare(int64_t n) override {
    m_.assign(static_cast<size_t>(n), 0.0f);
    v_.assign(static_cast<size_t>(n), 0.0f);
    if (amsgrad_) v_max_.assign(static_cast<size_t>(n), 0.0f);
  }
  std::optional<double> momentum() const override { return beta_1_; }
  void set_momentum(double m) override { beta_1_ = m; }
  std::vector<std::span<float>> state() override {
    if (amsgrad_) return {m_, v_, v_max_};
    return {m_, v_};
  }

 protected:
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
  double beta_1_, beta_2_, epsilon_, weight_decay_;
  bool amsgrad_;
  std::vector<float> m_, v_, v_max_;
};

ANNEAL_REGISTER(OptimizerRegistry, "adamw", AdamW);

}  // namespace
}  // namespace anneal
