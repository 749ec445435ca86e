#pragma once
// What adam, adamw and nadam share: beta_1 (the momentum a schedule may drive), beta_2, epsilon,
// and the first and second moment buffers over the trainable parameters.
#include <vector>

#include "anneal/optimizer.hpp"

namespace anneal {

class MomentOptimizer : public Optimizer {
 public:
  MomentOptimizer(AttrMap& a, double default_epsilon)
      : Optimizer(a, 0.001),
        beta_1_(a.get<double>("beta_1", 0.9)),
        beta_2_(a.get<double>("beta_2", 0.999)),
        epsilon_(a.get<double>("epsilon", default_epsilon)) {
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

 protected:
  double beta_1_, beta_2_, epsilon_;
  std::vector<float> m_, v_;
};

}  // namespace anneal
