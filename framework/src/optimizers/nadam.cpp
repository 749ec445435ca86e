// Nadam as Keras computes it (Dozat 2016 with Keras' momentum schedule, epsilon 1e-7):
//   u_t = b1 (1 - 0.5 * 0.96^(0.004 t)),  u_{t+1} likewise,  P_t = prod_{k<=t} u_k
//   m = b1 m + (1-b1) g;  v = b2 v + (1-b2) g^2
//   m_hat = u_{t+1} m / (1 - P_t u_{t+1}) + (1 - u_t) g / (1 - P_t);  v_hat = v / (1 - b2^t)
//   w -= lr m_hat / (sqrt(v_hat) + eps)
// The running product P_t is state (it depends on every past beta_1), saved with the moments.
#include <cmath>
#include <vector>

#include "anneal/optimizer.hpp"

namespace anneal {
namespace {

class Nadam : public Optimizer {
 public:
  explicit Nadam(AttrMap& a)
      : Optimizer(a, 0.001),
        beta_1_(a.get<double>("beta_1", 0.9)),
        beta_2_(a.get<double>("beta_2", 0.999)),
        epsilon_(a.get<double>("epsilon", 1e-7)) {
    a.require(beta_1_ >= 0 && beta_1_ < 1, "beta_1", "must be in [0, 1)");
    a.require(beta_2_ >= 0 && beta_2_ < 1, "beta_2", "must be in [0, 1)");
    a.require(epsilon_ > 0, "epsilon", "must be > 0");
  }

  void prepare(int64_t n) override {
    m_.assign(static_cast<size_t>(n), 0.0f);
    v_.assign(static_cast<size_t>(n), 0.0f);
    product_.assign(2, 1.0f);  // [P before this update, the update it belongs to]
    product_[1] = -1.0f;
  }
  std::optional<double> momentum() const override { return beta_1_; }
  void set_momentum(double m) override { beta_1_ = m; }
  std::vector<std::span<float>> state() override { return {m_, v_, product_}; }

 protected:
  void update(const UpdateSlice& s) override {
    const double t = static_cast<double>(iterations() + 1);
    const double u_t = beta_1_ * (1 - 0.5 * std::pow(0.96, 0.004 * t));
    const double u_next = beta_1_ * (1 - 0.5 * std::pow(0.96, 0.004 * (t + 1)));
    // The product advances once per update, however many slices the update has.
    if (product_[1] != static_cast<float>(t)) {
      product_[0] = static_cast<float>(product_[0] * u_t);
      product_[1] = static_cast<float>(t);
    }
    const double p_t = product_[0], p_next = p_t * u_next;
    const float a = static_cast<float>(u_next / (1 - p_next)), c = static_cast<float>((1 - u_t) / (1 - p_t));
    const float bc2 = static_cast<float>(1 - std::pow(beta_2_, t));
    const float b1 = static_cast<float>(beta_1_), b2 = static_cast<float>(beta_2_);
    const float eps = static_cast<float>(epsilon_);
    float* m = m_.data() + s.offset;
    float* v = v_.data() + s.offset;
    for (size_t i = 0; i < s.w.size(); ++i) {
      const float g = s.g[i];
      m[i] = b1 * m[i] + (1 - b1) * g;
      v[i] = b2 * v[i] + (1 - b2) * g * g;
      const float m_hat = a * m[i] + c * g;
      s.w[i] -= s.lr * m_hat / (std::sqrt(v[i] / bc2) + eps);
    }
  }

 private:
  double beta_1_, beta_2_, epsilon_;
  std::vector<float> m_, v_, product_;
};

ANNEAL_REGISTER(OptimizerRegistry, "nadam", Nadam);

}  // namespace
}  // namespace anneal
