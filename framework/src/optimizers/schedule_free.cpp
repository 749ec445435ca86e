// Schedule-Free SGD and AdamW (Defazio et al., "The Road Less Scheduled", 2024): no decay schedule;
// the model is an average of the iterates. Per update t (1-based), with base rate lr:
//   y_t     = (1 - beta) z_t + beta x_t                  the point the gradient is taken at
//   gamma_t = lr min(1, t / warmup_steps)                (AdamW: times sqrt(1 - beta_2^t))
//   d_t     = g_t                                        (SGD)
//           = g_t / (sqrt(v_t) + eps),  v_t = beta_2 v_{t-1} + (1 - beta_2) g_t^2   (AdamW)
//   z_{t+1} = z_t - gamma_t (d_t + weight_decay y_t)
//   c_{t+1} = w_t / sum_{i<=t} w_i,  w_t = t^r max_{i<=t}(gamma_i)^weight_lr_power
//   x_{t+1} = (1 - c_{t+1}) x_t + c_{t+1} z_{t+1}
// With r = 0, weight_lr_power = 2 and a non-decreasing rate this is the paper's Algorithm 1
// (c = gamma_t^2 / sum gamma_i^2). The parameters hold y while training; x is the model
// (has_model_point): validation, checkpoints, evaluate, predict and export see x. Defaults as the
// authors' release: beta (SGD `momentum`, AdamW `beta_1`) 0.9, beta_2 0.999, eps 1e-8,
// weight_decay 0, r 0, weight_lr_power 2, warmup_steps 0.
#include <algorithm>
#include <cmath>
#include <vector>

#include "anneal/optimizer.hpp"
#include "scalar_state.hpp"

namespace anneal {
namespace {

class ScheduleFree : public Optimizer {
 public:
  ScheduleFree(AttrMap& a, bool adam, double default_lr)
      : Optimizer(a, default_lr),
        adam_(adam),
        beta_(a.get<double>(adam ? "beta_1" : "momentum", 0.9)),
        beta_2_(adam ? a.get<double>("beta_2", 0.999) : 0.0),
        epsilon_(adam ? a.get<double>("epsilon", 1e-8) : 0.0),
        weight_decay_(a.get<double>("weight_decay", 0.0)),
        r_(a.get<double>("r", 0.0)),
        weight_lr_power_(a.get<double>("weight_lr_power", 2.0)),
        warmup_steps_(a.get<int64_t>("warmup_steps", 0)) {
    const char* beta_key = adam ? "beta_1" : "momentum";
    a.require(beta_ > 0 && beta_ <= 1, beta_key, "must be in (0, 1] (the interpolation between z and x)");
    if (adam) {
      a.require(beta_2_ >= 0 && beta_2_ < 1, "beta_2", "must be in [0, 1)");
      a.require(epsilon_ > 0, "epsilon", "must be > 0");
    }
    a.require(weight_decay_ >= 0, "weight_decay", "must be >= 0");
    a.require(r_ >= 0, "r", "must be >= 0");
    a.require(weight_lr_power_ >= 0, "weight_lr_power", "must be >= 0");
    a.require(warmup_steps_ >= 0, "warmup_steps", "must be >= 0");
  }

  void prepare(int64_t n) override {
    z_.assign(static_cast<size_t>(n), 0.0f);
    x_.assign(static_cast<size_t>(n), 0.0f);
    if (adam_) v_.assign(static_cast<size_t>(n), 0.0f);
    scalars_ = ScalarState(kScalars);
  }
  std::vector<std::span<float>> state() override {
    if (adam_) return {z_, x_, v_, scalars_.buffer()};
    return {z_, x_, scalars_.buffer()};
  }
  std::optional<double> momentum() const override { return beta_; }
  void set_momentum(double m) override { beta_ = m; }

  bool has_model_point() const override { return true; }
  void to_model_point(std::span<float> params) const override {
    if (weight_sum() == 0) return;  // before the first update the three points coincide
    std::copy(x_.begin(), x_.begin() + static_cast<std::ptrdiff_t>(params.size()), params.begin());
  }
  void to_training_point(std::span<float> params) const override {
    if (weight_sum() == 0) return;
    const float beta = static_cast<float>(beta_);
    for (size_t i = 0; i < params.size(); ++i) params[i] = interpolate(z_[i], x_[i], beta);
  }

 protected:
  void begin_step(double lr, std::span<const float>, std::span<const float>) override {
    const double t = static_cast<double>(iterations() + 1);
    const double warm = warmup_steps_ > 0 ? std::min(1.0, t / static_cast<double>(warmup_steps_)) : 1.0;
    gamma_ = lr * warm * (adam_ ? std::sqrt(1 - std::pow(beta_2_, t)) : 1.0);
    rate_ = lr;
    first_ = weight_sum() == 0;
    const double lr_max = std::max(scalars_.get(kLrMax), gamma_);
    const double weight = std::pow(t, r_) * std::pow(lr_max, weight_lr_power_);
    const double sum = weight_sum() + weight;
    c_ = sum > 0 ? weight / sum : 0.0;
    scalars_.set(kLrMax, lr_max);
    scalars_.set(kWeightSum, sum);
  }

  void update(const UpdateSlice& s) override {
    // The slice's share of the step's rate (Caffe's lr_mult) scales gamma.
    const double mult = rate_ > 0 ? static_cast<double>(s.lr) / rate_ : 0.0;
    const float gamma = static_cast<float>(gamma_ * mult), c = static_cast<float>(c_), beta = static_cast<float>(beta_);
    const float decay = static_cast<float>(weight_decay_) * s.decay_mult;
    const float b2 = static_cast<float>(beta_2_), eps = static_cast<float>(epsilon_);
    float* z = z_.data() + s.offset;
    float* x = x_.data() + s.offset;
    float* v = adam_ ? v_.data() + s.offset : nullptr;
    if (first_) {
      std::copy(s.w.begin(), s.w.end(), z);
      std::copy(s.w.begin(), s.w.end(), x);
    }
    for (size_t i = 0; i < s.w.size(); ++i) {
      const float y = s.w[i], g = s.g[i];
      float d = g;
      if (v) {
        v[i] = b2 * v[i] + (1 - b2) * g * g;
        d = g / (std::sqrt(v[i]) + eps);
      }
      z[i] -= gamma * (d + decay * y);
      x[i] = (1 - c) * x[i] + c * z[i];
      s.w[i] = interpolate(z[i], x[i], beta);
    }
  }

 private:
  // y = (1 - beta) z + beta x, the one expression the step and the move back to the training
  // point share, so a resumed run continues from the same bits.
  static float interpolate(float z, float x, float beta) { return (1 - beta) * z + beta * x; }

  enum { kWeightSum, kLrMax, kScalars };
  double weight_sum() const { return scalars_.get(kWeightSum); }

  bool adam_;
  double beta_, beta_2_, epsilon_, weight_decay_, r_, weight_lr_power_;
  int64_t warmup_steps_;
  std::vector<float> z_, x_, v_;
  ScalarState scalars_{kScalars};
  double gamma_ = 0, rate_ = 0, c_ = 0;
  bool first_ = false;
};

class SgdScheduleFree : public ScheduleFree {
 public:
  explicit SgdScheduleFree(AttrMap& a) : ScheduleFree(a, false, 1.0) {}
};

class AdamWScheduleFree : public ScheduleFree {
 public:
  explicit AdamWScheduleFree(AttrMap& a) : ScheduleFree(a, true, 0.0025) {}
};

ANNEAL_REGISTER(OptimizerRegistry, "sgd_schedulefree", SgdScheduleFree);
ANNEAL_REGISTER(OptimizerRegistry, "adamw_schedulefree", AdamWScheduleFree);

}  // namespace
}  // namespace anneal
