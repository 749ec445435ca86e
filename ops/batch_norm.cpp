// batch_norm: Keras' BatchNormalization (momentum 0.99, epsilon 1e-3, center, scale). Features
// are normalised along one axis of the per-sample shape: the channels (axis 0) of a [C, H, W]
// image, the last axis otherwise (`axis:` overrides). Training normalises with the batch's mean
// and biased variance and moves the moving statistics towards them:
//   moving = momentum * moving + (1 - momentum) * batch statistic
// evaluation normalises with the moving statistics. The moving statistics are non-trainable
// state: saved in checkpoints, never touched by optimizers or weight decay.
//
// Backward (training), per feature over its M values, with x_hat = (x - mean) / sqrt(var + eps):
//   d_beta = sum dy,  d_gamma = sum dy x_hat,  dx = gamma / (M sqrt(var + eps)) (M dy - d_beta - x_hat d_gamma)
#include <cmath>

#include "anneal/export_graph.hpp"
#include "anneal/op.hpp"

namespace anneal {
namespace {

class BatchNormOp : public Op {
 public:
  // Inference form folded into one scale and shift per feature, a = gamma / sqrt(var + eps) and
  // b = beta - mean a, broadcast along the feature axis: y = x a + b (Mul, Add).
  std::string export_onnx(ExportGraph& g, const ExportNode& node) const override {
    const Shape& s = node.input_shapes[0];
    const int axis = feature_axis(s);
    const int64_t features = s[axis];
    std::vector<float> a(static_cast<size_t>(features)), b(static_cast<size_t>(features));
    size_t p = 0;
    const auto gamma = scale_ ? node.params[p++] : std::span<const float>();
    const auto beta = center_ ? node.params[p++] : std::span<const float>();
    for (int64_t f = 0; f < features; ++f) {
      const auto i = static_cast<size_t>(f);
      const double inv = 1.0 / std::sqrt(static_cast<double>(node.state[1][i]) + epsilon_);
      a[i] = static_cast<float>((scale_ ? gamma[i] : 1.0) * inv);
      b[i] = static_cast<float>((center_ ? beta[i] : 0.0) - node.state[0][i] * (scale_ ? gamma[i] : 1.0) * inv);
    }
    std::vector<int64_t> dims{features};
    for (int d = axis + 1; d < s.rank(); ++d) dims.push_back(1);
    const std::string y = g.node("Mul", {node.inputs[0], g.constant(node.name + "/scale", dims, a)});
    return g.node("Add", {y, g.constant(node.name + "/shift", dims, b)}, {}, node.name);
  }
  explicit BatchNormOp(AttrMap& a)
      : momentum_(a.get<double>("momentum", 0.99)),
        epsilon_(a.get<double>("epsilon", 1e-3)),
        center_(a.get<bool>("center", true)),
        scale_(a.get<bool>("scale", true)),
        axis_(a.get_optional<int64_t>("axis")) {
    a.require(momentum_ >= 0 && momentum_ <= 1, "momentum", "must be in [0, 1]");
    a.require(epsilon_ > 0, "epsilon", "must be > 0");
    gamma_init_ = initializer_attr(a, "gamma_initializer");
    beta_init_ = initializer_attr(a, "beta_initializer");
  }

  Shape infer_shape(const std::vector<Shape>& in) const override {
    feature_axis(in[0]);
    return in[0];
  }
  std::vector<ParamSpec> param_specs(const std::vector<Shape>& in) const override {
    const Shape features{in[0][feature_axis(in[0])]};
    std::vector<ParamSpec> specs;
    if (scale_) specs.push_back({"gamma", features, gamma_init_, "ones", {}});
    if (center_) specs.push_back({"beta", features, beta_init_, "zeros", {}});
    return specs;
  }
  std::vector<StateSpec> state_specs(const std::vector<Shape>& in) const override {
    const Shape features{in[0][feature_axis(in[0])]};
    return {{"moving_mean", features, 0.0f}, {"moving_variance", features, 1.0f}};
  }
  void prepare(const std::vector<Shape>& in) override {
    const int axis = feature_axis(in[0]);
    before_ = after_ = 1;
    for (int i = 0; i < axis; ++i) before_ *= in[0][i];
    for (int i = axis + 1; i < in[0].rank(); ++i) after_ *= in[0][i];
    features_ = in[0][axis];
  }
  Workspace workspace(int64_t max_batch) const override {
    return {max_batch * before_ * features_ * after_ + features_, 0};  // x_hat, then 1 / sqrt(var + eps)
  }
  Flops flops(const std::vector<Shape>& in, const Shape&) const override {
    const double n = static_cast<double>(in[0].numel());
    return {6 * n, 8 * n};
  }

  void forward(const OpContext& ctx) const override {
    const float* gamma = scale_ ? ctx.params[0].data : nullptr;
    const float* beta = center_ ? ctx.params[scale_ ? 1 : 0].data : nullptr;
    float* moving_mean = ctx.state[0].data;
    float* moving_var = ctx.state[1].data;
    const int64_t outer = ctx.batch * before_;
    const float* x = ctx.inputs[0].data;
    float* y = ctx.output.data;
    float* x_hat = ctx.saved.data();
    float* inv_std = x_hat + ctx.batch * before_ * features_ * after_;
    for (int64_t c = 0; c < features_; ++c) {
      double mean, var;
      if (ctx.training) {
        double sum = 0, sq = 0;
        for (int64_t o = 0; o < outer; ++o)
          for (int64_t i = 0; i < after_; ++i) sum += x[(o * features_ + c) * after_ + i];
        const double m = static_cast<double>(outer * after_);
        mean = sum / m;
        for (int64_t o = 0; o < outer; ++o)
          for (int64_t i = 0; i < after_; ++i) {
            const double d = x[(o * features_ + c) * after_ + i] - mean;
            sq += d * d;
          }
        var = sq / m;
        moving_mean[c] = static_cast<float>(momentum_ * moving_mean[c] + (1 - momentum_) * mean);
        moving_var[c] = static_cast<float>(momentum_ * moving_var[c] + (1 - momentum_) * var);
      } else {
        mean = moving_mean[c];
        var = moving_var[c];
      }
      const float inv = static_cast<float>(1.0 / std::sqrt(var + epsilon_));
      inv_std[c] = inv;
      const float g = gamma ? gamma[c] : 1.0f, b = beta ? beta[c] : 0.0f, mu = static_cast<float>(mean);
      for (int64_t o = 0; o < outer; ++o)
        for (int64_t i = 0; i < after_; ++i) {
          const int64_t at = (o * features_ + c) * after_ + i;
          x_hat[at] = (x[at] - mu) * inv;
          y[at] = g * x_hat[at] + b;
        }
    }
  }

  void backward(const OpContext& ctx) const override {
    const int64_t outer = ctx.batch * before_;
    const double m = static_cast<double>(outer * after_);
    const float* dy = ctx.output_grad.data;
    const float* x_hat = ctx.saved.data();
    const float* inv_std = x_hat + ctx.batch * before_ * features_ * after_;
    const float* gamma = scale_ ? ctx.params[0].data : nullptr;
    for (int64_t c = 0; c < features_; ++c) {
      double d_beta = 0, d_gamma = 0;
      for (int64_t o = 0; o < outer; ++o)
        for (int64_t i = 0; i < after_; ++i) {
          const int64_t at = (o * features_ + c) * after_ + i;
          d_beta += dy[at];
          d_gamma += static_cast<double>(dy[at]) * x_hat[at];
        }
      if (scale_ && !ctx.param_grads[0].empty()) ctx.param_grads[0].data[c] = static_cast<float>(d_gamma);
      if (center_ && !ctx.param_grads[scale_ ? 1 : 0].empty()) ctx.param_grads[scale_ ? 1 : 0].data[c] = static_cast<float>(d_beta);
      if (ctx.input_grads[0].empty()) continue;
      float* dx = ctx.input_grads[0].data;
      const float k = (gamma ? gamma[c] : 1.0f) * inv_std[c] / static_cast<float>(m);
      const float mb = static_cast<float>(d_beta), mg = static_cast<float>(d_gamma), mf = static_cast<float>(m);
      for (int64_t o = 0; o < outer; ++o)
        for (int64_t i = 0; i < after_; ++i) {
          const int64_t at = (o * features_ + c) * after_ + i;
          dx[at] += k * (mf * dy[at] - mb - x_hat[at] * mg);
        }
    }
  }

 private:
  int feature_axis(const Shape& s) const {
    if (s.rank() == 0) throw ShapeMismatch("needs at least one dimension per sample");
    int64_t axis = axis_.value_or(s.rank() == 3 ? 0 : -1);
    if (axis < 0) axis += s.rank();
    if (axis < 0 || axis >= s.rank())
      throw ShapeMismatch("axis " + std::to_string(*axis_) + " is outside the per-sample shape " + s.str());
    return static_cast<int>(axis);
  }

  double momentum_, epsilon_;
  bool center_, scale_;
  std::optional<int64_t> axis_;
  AttrMap gamma_init_, beta_init_;
  int64_t before_ = 1, features_ = 1, after_ = 1;
};

ANNEAL_REGISTER(OpRegistry, "batch_norm", BatchNormOp);

}  // namespace
}  // namespace anneal
