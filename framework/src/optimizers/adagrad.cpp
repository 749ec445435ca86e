// Adagrad as tf.keras computes it: a += g^2 (a starts at initial_accumulator_value);
// w -= lr g / (sqrt(a) + eps).
#include <cmath>
#include <vector>

#include "anneal/optimizer.hpp"

namespace anneal {
namespace {

class Adagrad : public Optimizer {
 public:
  explicit Adagrad(AttrMap& a)
      : Optimizer(a, 0.001),
        initial_(a.get<double>("initial_accumulator_value", 0.1)),
        epsilon_(a.get<double>("epsilon", 1e-7)) {
    a.require(initial_ >= 0, "initial_accumulator_value", "must be >= 0");
    a.require(epsilon_ > 0, "epsilon", "must be > 0");
  }
  void prepare(int64_t n) override { acc_.assign(static_cast<size_t>(n), static_cast<float>(initial_)); }
  std::vector<std::span<float>> state() override { return {acc_}; }

 protected:
  bool update_is_elementwise() const override { return true; }
  void update(const UpdateSlice& s) override {
    const float eps = static_cast<float>(epsilon_), lr = s.lr;
    float* acc = acc_.data() + s.offset;
    for (size_t i = 0; i < s.w.size(); ++i) {
      acc[i] += s.g[i] * s.g[i];
      s.w[i] -= lr * s.g[i] / (std::sqrt(acc[i]) + eps);
    }
  }

 private:
  double initial_, epsilon_;
  std::vector<float> acc_;
};

ANNEAL_REGISTER(OptimizerRegistry, "adagrad", Adagrad);

}  // namespace
}  // namespace anneal
