// Adam as Keras computes it: m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2;
// w -= lr_t m / (sqrt(v) + eps) with lr_t = lr sqrt(1-b2^t) / (1-b1^t), t = update number from 1.
#include <cmath>
#include <vector>

#include "anneal/optimizer.hpp"

namespace anneal {
namespace {

class Adam : public Optimizer {
 public:
  explicit Adam(AttrMap& a)
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
  }
  std::optional<double> momentum() const override { return beta_1_; }
  void set_momentum(double m) override { beta_1_ = m; }
  std::vector<std::span<float>> state() override { return {m_, v_}; }

 protected:
  void update(std::span<float> w, std::span<const float> g, float lr) override {
    const double t = static_cast<double>(iterations() + 1);
    const float lr_t = static_cast<float>(lr * std::sqrt(1 - std::pow(beta_2_, t)) / (1 - std::pow(beta_1_, t)));
    const float b1 = static_cast<float>(beta_1_), b2 = static_cast<float>(beta_2_);
    const float eps = static_cast<float>(epsilon_);
    for (size_t i = 0; i < w.size(); ++i) {
      m_[i] = b1 * m_[i] + (1 - b1) * g[i];
      v_[i] = b2 * v_[i] + (1 - b2) * g[i] * g[i];
      w[i] -= lr_t * m_[i] / (std::sqrt(v_[i]) + eps);
    }
  }

 private:
  double beta_1_, beta_2_, epsilon_;
  std::vector<float> m_, v_;
};

ANNEAL_REGISTER(OptimizerRegistry, "adam", Adam);

}  // namespace
}  // namespace anneal
