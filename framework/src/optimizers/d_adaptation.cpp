// Learning-rate-free optimizers that estimate the distance to the solution, D, and with it their
// step size (defaults d0 1e-6, lr 1.0 as a multiplier on the estimate, growth_rate unlimited).
//
// dadapt_sgd (Defazio & Mishchenko 2023, "Learning-Rate-Free Learning by D-Adaptation", SGD form):
//   G = ||g_0||,  lambda_k = lr d_k / G
//   s_{k+1} = s_k + lambda_k g_k;  x_{k+1} = x_k - lambda_k g_k
//   d^_{k+1} = (||s_{k+1}||^2 - sum_i lambda_i^2 ||g_i||^2) / (2 ||s_{k+1}||)
//            = sum_i lambda_i <g_i, s_i> / ||s_{k+1}||      (the form computed here: no cancellation)
//
// dadapt_adam (the same paper, Adam form; no bias correction):
//   m_{k+1} = b1 m_k + (1 - b1) d_k lr g_k;   v_{k+1} = b2 v_k + (1 - b2) g_k^2
//   r_{k+1} = sqrt(b2) r_k + (1 - sqrt(b2)) d_k lr <g_k, s_k / (sqrt(v_k) + eps)>
//   s_{k+1} = sqrt(b2) s_k + (1 - sqrt(b2)) d_k lr g_k
//   x_{k+1} = x_k - m_{k+1} / (sqrt(v_{k+1}) + eps)   (decoupled decay: - d_k lr wd x_k)
//   d^_{k+1} = r_{k+1} / ((1 - sqrt(b2)) ||s_{k+1}||_1)
//
// prodigy (Mishchenko & Defazio 2023, "Prodigy: An Expeditiously Adaptive Parameter-Free
// Learner", Algorithm 3, Adam form):
//   m_{k+1} = b1 m_k + (1 - b1) d_k g_k;   v_{k+1} = b2 v_k + (1 - b2) d_k^2 g_k^2
//   r_{k+1} = sqrt(b2) r_k + (1 - sqrt(b2)) lr d_k^2 <g_k, x_0 - x_k>
//   s_{k+1} = sqrt(b2) s_k + (1 - sqrt(b2)) lr d_k^2 g_k
//   x_{k+1} = x_k - lr d_k m_{k+1} / (sqrt(v_{k+1}) + d_k eps)   (decoupled decay: - lr d_k wd x_k)
//   d^_{k+1} = r_{k+1} / ||s_{k+1}||_1
//
// In all three d_{k+1} = max(d_k, min(d^_{k+1}, growth_rate d_k)). The history's `lr` column
// shows the step size the next update uses (lambda, d lr, or lr d). lr is what a schedule scales.
#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "anneal/optimizer.hpp"
#include "scalar_state.hpp"

namespace anneal {
namespace {

enum class Kind { kSgd, kAdam, kProdigy };

class DistanceAdaptive : public Optimizer {
 public:
  DistanceAdaptive(AttrMap& a, Kind kind)
      : Optimizer(a, 1.0),
        kind_(kind),
        beta_1_(kind == Kind::kSgd ? 0.0 : a.get<double>("beta_1", 0.9)),
        beta_2_(kind == Kind::kSgd ? 0.0 : a.get<double>("beta_2", 0.999)),
        epsilon_(kind == Kind::kSgd ? 0.0 : a.get<double>("epsilon", 1e-8)),
        weight_decay_(kind == Kind::kSgd ? 0.0 : a.get<double>("weight_decay", 0.0)),
        d0_(a.get<double>("d0", 1e-6)),
        growth_rate_(a.get<double>("growth_rate", std::numeric_limits<double>::infinity())) {
    if (kind != Kind::kSgd) {
      a.require(beta_1_ >= 0 && beta_1_ < 1, "beta_1", "must be in [0, 1)");
      a.require(beta_2_ > 0 && beta_2_ < 1, "beta_2", "must be in (0, 1)");
      a.require(epsilon_ > 0, "epsilon", "must be > 0");
      a.require(weight_decay_ >= 0, "weight_decay", "must be >= 0");
    }
    a.require(d0_ > 0 && std::isfinite(d0_), "d0", "must be a finite number > 0");
    a.require(growth_rate_ > 1, "growth_rate", "must be > 1");
  }

  void prepare(int64_t n) override {
    s_.assign(static_cast<size_t>(n), 0.0f);
    if (kind_ != Kind::kSgd) {
      m_.assign(static_cast<size_t>(n), 0.0f);
      v_.assign(static_cast<size_t>(n), 0.0f);
    }
    if (kind_ == Kind::kProdigy) x0_.assign(static_cast<size_t>(n), 0.0f);
  }
  std::vector<std::span<float>> state() override {
    switch (kind_) {
      case Kind::kSgd: return {s_, scalars_.buffer()};
      case Kind::kAdam: return {s_, m_, v_, scalars_.buffer()};
      case Kind::kProdigy: return {s_, m_, v_, x0_, scalars_.buffer()};
    }
    return {};
  }
  std::optional<double> momentum() const override {
    if (kind_ == Kind::kSgd) return std::nullopt;
    return beta_1_;
  }
  void set_momentum(double m) override {
    if (kind_ != Kind::kSgd) beta_1_ = m;
  }
  double logged_lr() const override {
    const double d = iterations() == 0 ? d0_ : scalars_.get(kD);
    switch (kind_) {
      case Kind::kSgd: {
        const double g0 = scalars_.get(kG0);
        return iterations() == 0 || g0 == 0 ? 0.0 : effective_lr() * d / g0;
      }
      case Kind::kAdam:
      case Kind::kProdigy: return effective_lr() * d;
    }
    return 0;
  }

 protected:
  void begin_step(double lr, std::span<const float> params, std::span<const float> grads) override {
    if (iterations() == 0) {
      scalars_.set(kD, d0_);
      if (kind_ == Kind::kSgd) {
        double sum = 0;
        for (float g : grads) sum += static_cast<double>(g) * g;
        scalars_.set(kG0, std::sqrt(sum));
      }
      if (kind_ == Kind::kProdigy) std::copy(params.begin(), params.end(), x0_.begin());
    }
    lr_ = lr;
    d_ = scalars_.get(kD);
    dot_ = 0;
    s_norm_ = 0;
  }

  void update(const UpdateSlice& s) override {
    // The slice's rate: the step's, times the run's lr_mult.
    const double lr = s.lr;
    float* sv = s_.data() + s.offset;
    switch (kind_) {
      case Kind::kSgd: {
        const double g0 = scalars_.get(kG0);
        const float lambda = g0 > 0 ? static_cast<float>(lr * d_ / g0) : 0.0f;
        for (size_t i = 0; i < s.w.size(); ++i) {
          dot_ += static_cast<double>(lambda) * s.g[i] * sv[i];
          sv[i] += lambda * s.g[i];
          s.w[i] -= lambda * s.g[i];
          s_norm_ += static_cast<double>(sv[i]) * sv[i];
        }
        return;
      }
      case Kind::kAdam: {
        const float dlr = static_cast<float>(d_ * lr), b1 = static_cast<float>(beta_1_), b2 = static_cast<float>(beta_2_);
        const float root_b2 = static_cast<float>(std::sqrt(beta_2_)), eps = static_cast<float>(epsilon_);
        const float shrink = 1.0f - dlr * static_cast<float>(weight_decay_) * s.decay_mult;
        float* m = m_.data() + s.offset;
        float* v = v_.data() + s.offset;
        for (size_t i = 0; i < s.w.size(); ++i) {
          const float g = s.g[i];
          dot_ += static_cast<double>(dlr) * g * (sv[i] / (std::sqrt(v[i]) + eps));
          m[i] = b1 * m[i] + (1 - b1) * dlr * g;
          v[i] = b2 * v[i] + (1 - b2) * g * g;
          sv[i] = root_b2 * sv[i] + (1 - root_b2) * dlr * g;
          s.w[i] = s.w[i] * shrink - m[i] / (std::sqrt(v[i]) + eps);
          s_norm_ += std::abs(static_cast<double>(sv[i]));
        }
        return;
      }
      case Kind::kProdigy: {
        const float d = static_cast<float>(d_), b1 = static_cast<float>(beta_1_), b2 = static_cast<float>(beta_2_);
        const float root_b2 = static_cast<float>(std::sqrt(beta_2_)), eps = static_cast<float>(epsilon_);
        const float step = static_cast<float>(lr * d_), lr_d2 = static_cast<float>(lr * d_ * d_);
        const float shrink = 1.0f - step * static_cast<float>(weight_decay_) * s.decay_mult;
        float* m = m_.data() + s.offset;
        float* v = v_.data() + s.offset;
        const float* x0 = x0_.data() + s.offset;
        for (size_t i = 0; i < s.w.size(); ++i) {
          const float g = s.g[i];
          dot_ += static_cast<double>(lr_d2) * g * (x0[i] - s.w[i]);
          m[i] = b1 * m[i] + (1 - b1) * d * g;
          v[i] = b2 * v[i] + (1 - b2) * d * d * g * g;
          sv[i] = root_b2 * sv[i] + (1 - root_b2) * lr_d2 * g;
          s.w[i] = s.w[i] * shrink - step * m[i] / (std::sqrt(v[i]) + d * eps);
          s_norm_ += std::abs(static_cast<double>(sv[i]));
        }
        return;
      }
    }
  }

  void end_step() override {
    double r = scalars_.get(kR), d_hat = d_;
    const double root_b2 = std::sqrt(beta_2_);
    switch (kind_) {
      case Kind::kSgd:
        r += dot_;
        if (s_norm_ > 0) d_hat = r / std::sqrt(s_norm_);
        break;
      case Kind::kAdam:
        r = root_b2 * r + (1 - root_b2) * dot_;
        if (s_norm_ > 0) d_hat = r / ((1 - root_b2) * s_norm_);
        break;
      case Kind::kProdigy:
        r = root_b2 * r + (1 - root_b2) * dot_;
        if (s_norm_ > 0) d_hat = r / s_norm_;
        break;
    }
    scalars_.set(kR, r);
    if (lr_ > 0) scalars_.set(kD, std::max(d_, std::min(d_hat, d_ * growth_rate_)));
  }

 private:
  enum { kD, kR, kG0, kScalars };
  Kind kind_;
  double beta_1_, beta_2_, epsilon_, weight_decay_, d0_, growth_rate_;
  std::vector<float> s_, m_, v_, x0_;
  ScalarState scalars_{kScalars};
  double lr_ = 0, d_ = 0, dot_ = 0, s_norm_ = 0;  // this step's
};

class DadaptSgd : public DistanceAdaptive {
 public:
  explicit DadaptSgd(AttrMap& a) : DistanceAdaptive(a, Kind::kSgd) {}
};
class DadaptAdam : public DistanceAdaptive {
 public:
  explicit DadaptAdam(AttrMap& a) : DistanceAdaptive(a, Kind::kAdam) {}
};
class Prodigy : public DistanceAdaptive {
 public:
  explicit Prodigy(AttrMap& a) : DistanceAdaptive(a, Kind::kProdigy) {}
};

ANNEAL_REGISTER(OptimizerRegistry, "dadapt_sgd", DadaptSgd);
ANNEAL_REGISTER(OptimizerRegistry, "dadapt_adam", DadaptAdam);
ANNEAL_REGISTER(OptimizerRegistry, "prodigy", Prodigy);

}  // namespace
}  // namespace anneal
