// SGD with momentum in either framework's form:
//   keras   (default): v = m v - lr g;  w += v            (nesterov: w += m v - lr g)
//                      weight_decay is decoupled (Keras 3): w -= lr wd w before the step
//   pytorch          : b = m b + g;     w -= lr b         (nesterov: w -= lr (g + m b))
//                      weight_decay is coupled L2: g += wd w
// The forms agree at a constant rate; under a schedule Keras keeps past rates inside v while
// PyTorch rescales the whole buffer by the new rate.
#include <vector>

#include "anneal/optimizer.hpp"

namespace anneal {
namespace {

class Sgd : public Optimizer {
 public:
  explicit Sgd(AttrMap& a)
      : Optimizer(a, 0.01),
        momentum_(a.get<double>("momentum", 0.0)),
        nesterov_(a.get<bool>("nesterov", false)),
        weight_decay_(a.get<double>("weight_decay", 0.0)) {
    a.require(momentum_ >= 0 && momentum_ <= 1, "momentum", "must be in [0, 1]");
    a.require(weight_decay_ >= 0, "weight_decay", "must be >= 0");
    const auto form = a.get<std::string>("momentum_form", "keras");
    a.require(form == "keras" || form == "pytorch", "momentum_form", "must be keras or pytorch");
    pytorch_form_ = form == "pytorch";
    a.require(!nesterov_ || momentum_ > 0, "nesterov", "needs momentum > 0");
  }

  void prepare(int64_t n) override { velocity_.assign(static_cast<size_t>(n), 0.0f); }
  std::optional<double> momentum() const override { return momentum_; }
  void set_momentum(double m) override { momentum_ = m; }
  std::vector<std::span<float>> state() override { return {velocity_}; }

 protected:
  bool update_is_elementwise() const override { return true; }
  void update(const UpdateSlice& s) override {
    const float m = static_cast<float>(momentum_), lr = s.lr;
    const float wd = static_cast<float>(weight_decay_) * s.decay_mult;
    float* v = velocity_.data() + s.offset;
    const std::span<float> w = s.w;
    const std::span<const float> g = s.g;
    const size_t n = w.size();
    if (pytorch_form_) {
      for (size_t i = 0; i < n; ++i) {
        const float gi = g[i] + wd * w[i];
        v[i] = m * v[i] + gi;
        w[i] -= lr * (nesterov_ ? gi + m * v[i] : v[i]);
      }
    } else {
      for (size_t i = 0; i < n; ++i) {
        w[i] -= lr * wd * w[i];
        v[i] = m * v[i] - lr * g[i];
        w[i] += nesterov_ ? m * v[i] - lr * g[i] : v[i];
      }
    }
  }

 private:
  double momentum_;
  bool nesterov_;
  double weight_decay_;
  bool pytorch_form_ = false;
  std::vector<float> velocity_;
};

ANNEAL_REGISTER(OptimizerRegistry, "sgd", Sgd);

}  // namespace
}  // namespace anneal
