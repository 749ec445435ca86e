// RMSprop as Keras computes it: a = rho a + (1-rho) g^2; w -= lr g / (sqrt(a) + eps).
#include <cmath>
#include <vector>

#include "anneal/optimizer.hpp"

namespace anneal {
namespace {

class RmsProp : public Optimizer {
 public:
  explicit RmsProp(AttrMap& a)
      : Optimizer(a, 0.001), rho_(a.get<double>("rho", 0.9)), epsilon_(a.get<double>("epsilon", 1e-7)) {
    a.require(rho_ >= 0 && rho_ < 1, "rho", "must be in [0, 1)");
    a.require(epsilon_ > 0, "epsilon", "must be > 0");
  }
  void prepare(int64_t n) override { acc_.assign(static_cast<size_t>(n), 0.0f); }
  std::vector<std::span<float>> state() override { return {acc_}; }

 protected:
  bool update_is_elementwise() const override { return true; }
  void update(const UpdateSlice& s) override {
    const float rho = static_cast<float>(rho_), eps = static_cast<float>(epsilon_), lr = s.lr;
    float* acc = acc_.data() + s.offset;
    for (size_t i = 0; i < s.w.size(); ++i) {
      acc[i] = rho * acc[i] + (1 - rho) * s.g[i] * s.g[i];
      s.w[i] -= lr * s.g[i] / (std::sqrt(acc[i]) + eps);
    }
  }

 private:
  double rho_, epsilon_;
  std::vector<float> acc_;
};

ANNEAL_REGISTER(OptimizerRegistry, "rmsprop", RmsProp);

}  // namespace
}  // namespace anneal
