// layer_norm: Keras' LayerNormalization over the last axis (epsilon 1e-3, center, scale): each
// row is normalised by its own mean and biased variance, then scaled by gamma and shifted by
// beta ([last]). Backward per row of N values, with x_hat = (x - mean) / sqrt(var + eps) and
// g = dy gamma:  dx = (N g - sum g - x_hat sum(g x_hat)) / (N sqrt(var + eps)).
#include <cmath>

#include "anneal/export_graph.hpp"
#include "anneal/op.hpp"

namespace anneal {
namespace {

class LayerNormOp : public Op {
 public:
  // ONNX LayerNormalization (opset 17) over the last axis.
  std::string export_onnx(ExportGraph& g, const ExportNode& node) const override {
    const int64_t n = node.input_shapes[0].back();
    size_t p = 0;
    const std::vector<float> ones(static_cast<size_t>(n), 1.0f), zeros(static_cast<size_t>(n), 0.0f);
    const std::string gamma = g.constant(node.name + "/gamma", {n}, scale_ ? node.params[p++] : std::span<const float>(ones));
    const std::string beta = g.constant(node.name + "/beta", {n}, center_ ? node.params[p++] : std::span<const float>(zeros));
    return g.node("LayerNormalization", {node.inputs[0], gamma, beta},
                  {{"axis", int64_t{-1}}, {"epsilon", static_cast<float>(epsilon_)}}, node.name);
  }
  explicit LayerNormOp(AttrMap& a)
      : epsilon_(a.get<double>("epsilon", 1e-3)), center_(a.get<bool>("center", true)), scale_(a.get<bool>("scale", true)) {
    a.require(epsilon_ > 0, "epsilon", "must be > 0");
    gamma_init_ = initializer_attr(a, "gamma_initializer");
    beta_init_ = initializer_attr(a, "beta_initializer");
  }

  Shape infer_shape(const std::vector<Shape>& in) const override {
    if (in[0].rank() == 0) throw ShapeMismatch("needs at least one dimension per sample");
    return in[0];
  }
  std::vector<ParamSpec> param_specs(const std::vector<Shape>& in) const override {
    std::vector<ParamSpec> specs;
    if (scale_) specs.push_back({"gamma", Shape{in[0].back()}, gamma_init_, "ones", {}});
    if (center_) specs.push_back({"beta", Shape{in[0].back()}, beta_init_, "zeros", {}});
    return specs;
  }
  void prepare(const std::vector<Shape>& in) override {
    width_ = in[0].back();
    rows_per_sample_ = in[0].numel() / width_;
  }
  Workspace workspace(int64_t max_batch) const override {
    const int64_t rows = max_batch * rows_per_sample_;
    return {rows * width_ + rows, 0};  // x_hat, then each row's 1 / sqrt(var + eps)
  }
  Flops flops(const std::vector<Shape>& in, const Shape&) const override {
    const double n = static_cast<double>(in[0].numel());
    return {6 * n, 8 * n};
  }

  void forward(const OpContext& ctx) const override {
    const int64_t rows = ctx.batch * rows_per_sample_;
    const float* gamma = scale_ ? ctx.params[0].data : nullptr;
    const float* beta = center_ ? ctx.params[scale_ ? 1 : 0].data : nullptr;
    float* x_hat = ctx.saved.data();
    float* inv_std = x_hat + rows * width_;
    for (int64_t r = 0; r < rows; ++r) {
      const float* x = ctx.inputs[0].data + r * width_;
      double sum = 0, sq = 0;
      for (int64_t j = 0; j < width_; ++j) sum += x[j];
      const double mean = sum / static_cast<double>(width_);
      for (int64_t j = 0; j < width_; ++j) sq += (x[j] - mean) * (x[j] - mean);
      const float inv = static_cast<float>(1.0 / std::sqrt(sq / static_cast<double>(width_) + epsilon_));
      inv_std[r] = inv;
      float* h = x_hat + r * width_;
      float* y = ctx.output.data + r * width_;
      for (int64_t j = 0; j < width_; ++j) {
        h[j] = (x[j] - static_cast<float>(mean)) * inv;
        y[j] = (gamma ? gamma[j] : 1.0f) * h[j] + (beta ? beta[j] : 0.0f);
      }
    }
  }

  void backward(const OpContext& ctx) const override {
    const int64_t rows = ctx.batch * rows_per_sample_;
    const float* gamma = scale_ ? ctx.params[0].data : nullptr;
    const float* x_hat = ctx.saved.data();
    const float* inv_std = x_hat + rows * width_;
    const float* dy = ctx.output_grad.data;
    float* d_gamma = scale_ && !ctx.param_grads[0].empty() ? ctx.param_grads[0].data : nullptr;
    float* d_beta = center_ && !ctx.param_grads[scale_ ? 1 : 0].empty() ? ctx.param_grads[scale_ ? 1 : 0].data : nullptr;
    if (d_gamma) std::fill(d_gamma, d_gamma + width_, 0.0f);
    if (d_beta) std::fill(d_beta, d_beta + width_, 0.0f);
    for (int64_t r = 0; r < rows; ++r) {
      const float* h = x_hat + r * width_;
      const float* g_out = dy + r * width_;
      double sum_g = 0, sum_gh = 0;
      for (int64_t j = 0; j < width_; ++j) {
        if (d_gamma) d_gamma[j] += g_out[j] * h[j];
        if (d_beta) d_beta[j] += g_out[j];
        const double g = static_cast<double>(g_out[j]) * (gamma ? gamma[j] : 1.0f);
        sum_g += g;
        sum_gh += g * h[j];
      }
      if (ctx.input_grads[0].empty()) continue;
      float* dx = ctx.input_grads[0].data + r * width_;
      const double n = static_cast<double>(width_);
      for (int64_t j = 0; j < width_; ++j) {
        const double g = static_cast<double>(g_out[j]) * (gamma ? gamma[j] : 1.0f);
        dx[j] += static_cast<float>((n * g - sum_g - h[j] * sum_gh) * inv_std[r] / n);
      }
    }
  }

 private:
  double epsilon_;
  bool center_, scale_;
  AttrMap gamma_init_, beta_init_;
  int64_t width_ = 1, rows_per_sample_ = 1;
};

ANNEAL_REGISTER(OpRegistry, "layer_norm", LayerNormOp);

}  // namespace
}  // namespace anneal
