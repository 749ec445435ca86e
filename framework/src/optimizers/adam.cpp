// Adam as Keras computes it: m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2;
// w -= lr_t m / (sqrt(v) + eps) with lr_t = lr sqrt(1-b2^t) / (1-b1^t), t = update number from 1.
// amsgrad (Keras): v_hat = max(v_hat, v) takes v's place in the denominator.
#include <algorithm>
#include <cmath>
#include <vector>

#include "moments.hpp"

namespace anneal {
namespace {

class Adam : public MomentOptimizer {
 public:
  explicit Adam(AttrMap& a) : MomentOptimizer(a, 1e-7), amsgrad_(a.get<bool>("amsgrad", false)) {}

  void prepare(int64_t n) override {
    MomentOptimizer::prepare(n);
    if (amsgrad_) v_hat_.assign(static_cast<size_t>(n), 0.0f);
  }
  std::vector<std::span<float>> state() override {
    if (amsgrad_) return {m_, v_, v_hat_};
    return {m_, v_};
  }

 protected:
  bool update_is_elementwise() const override { return true; }
  void update(const UpdateSlice& s) override {
    const double t = static_cast<double>(iterations() + 1);
    const float lr_t = static_cast<float>(s.lr * std::sqrt(1 - std::pow(beta_2_, t)) / (1 - std::pow(beta_1_, t)));
    const float b1 = static_cast<float>(beta_1_), b2 = static_cast<float>(beta_2_);
    const float eps = static_cast<float>(epsilon_);
    float* m = m_.data() + s.offset;
    float* v = v_.data() + s.offset;
    float* v_hat = amsgrad_ ? v_hat_.data() + s.offset : nullptr;
    for (size_t i = 0; i < s.w.size(); ++i) {
      const float g = s.g[i];
      m[i] = b1 * m[i] + (1 - b1) * g;
      v[i] = b2 * v[i] + (1 - b2) * g * g;
      float denominator = v[i];
      if (v_hat) denominator = v_hat[i] = std::max(v_hat[i], v[i]);
      s.w[i] -= lr_t * m[i] / (std::sqrt(denominator) + eps);
    }
  }

 private:
  bool amsgrad_;
  std::vector<float> v_hat_;
};

ANNEAL_REGISTER(OptimizerRegistry, "adam", Adam);

}  // namespace
}  // namespace anneal
