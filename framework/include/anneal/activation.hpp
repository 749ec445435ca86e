#pragma once
// Activations: ops of one input that map each row of the last axis to a row of the same width
// (most of them element by element), each row on its own: fused users (dense) may call them on
// a block of rows at a time. Every registered op derived from ActivationOp can be used
// both as a layer ({type: gelu}) and as the `activation:` of dense or conv2d, whether it is
// built in or comes from a plugin: the core keeps no list of them.

#include <cstdint>
#include <memory>
#include <string>

#include "anneal/export_graph.hpp"
#include "anneal/op.hpp"

namespace anneal {

class ActivationOp : public Op {
 public:
  Shape infer_shape(const std::vector<Shape>& in) const override { return in[0]; }
  Flops flops(const std::vector<Shape>& in, const Shape& out) const override;
  void forward(const OpContext& ctx) const override;
  void backward(const OpContext& ctx) const override;
  // As a layer: activate_backward(accumulate = false) writes the input gradient when this node
  // alone produces it.
  bool write_input_gradient(size_t) override { return writes_input_gradient_ = true; }

  // y = f(x) over `rows` rows of `width` values; y may be x (in place).
  virtual void activate(const float* x, float* y, int64_t rows, int64_t width) const = 0;
  // dx = dy * f'(x), or dx += when `accumulate`; y = f(x). x is null when !uses_input().
  // dx may be dy when !accumulate.
  virtual void activate_backward(const float* x, const float* y, const float* dy, float* dx, int64_t rows,
                                 int64_t width, bool accumulate) const = 0;
  // Whether the derivative needs the input x (gelu, silu) or only the output y (relu, sigmoid).
  // A fused user keeps its pre-activation only when this is true.
  virtual bool uses_input() const { return true; }
  // The identity (linear): fused users skip it entirely.
  virtual bool is_identity() const { return false; }
  // Whether a fused user (dense, conv2d) must keep the pre-activation for backward.
  bool needs_preactivation() const { return !is_identity() && uses_input(); }
  // Fused entry point: y = f(y + bias) in one pass over [rows, width] (bias [width]). The default
  // adds the bias, then calls activate() in place; override it to save the second pass.
  virtual void activate_with_bias(float* y, const float* bias, int64_t rows, int64_t width) const;

  // The activation applied to value `x` in an exported graph; returns the output's name. Used
  // both for the op as a layer and fused into dense or conv2d. Default: ExportError.
  virtual std::string export_activation(ExportGraph& graph, const std::string& x) const;
  std::string export_onnx(ExportGraph& graph, const ExportNode& node) const override;

 private:
  bool writes_input_gradient_ = false;
};

// An elementwise activation from a small function object F with
//   explicit F(AttrMap&);                       // reads its attributes (alpha, ...)
//   float value(float x) const;                 // f(x)
//   float derivative(float x, float y) const;   // f'(x), given y = f(x)
//   static constexpr bool kUsesInput;           // whether derivative() reads x
// This is all an author writes for a new elementwise activation (see ops/examples/mish).
template <class F>
class PointwiseActivation : public ActivationOp {
 public:
  explicit PointwiseActivation(AttrMap& attrs) : f_(attrs) {}

  void activate(const float* x, float* y, int64_t rows, int64_t width) const override {
    const int64_t n = rows * width;
    for (int64_t i = 0; i < n; ++i) y[i] = f_.value(x[i]);
  }
  void activate_with_bias(float* y, const float* bias, int64_t rows, int64_t width) const override {
    for (int64_t r = 0; r < rows; ++r) {
      float* row = y + r * width;
      for (int64_t j = 0; j < width; ++j) row[j] = f_.value(row[j] + bias[j]);
    }
  }
  void activate_backward(const float* x, const float* y, const float* dy, float* dx, int64_t rows, int64_t width,
                         bool accumulate) const override {
    const int64_t n = rows * width;
    if (accumulate)
      for (int64_t i = 0; i < n; ++i) dx[i] += dy[i] * f_.derivative(F::kUsesInput ? x[i] : 0.0f, y[i]);
    else
      for (int64_t i = 0; i < n; ++i) dx[i] = dy[i] * f_.derivative(F::kUsesInput ? x[i] : 0.0f, y[i]);
  }
  bool uses_input() const override { return F::kUsesInput; }
  // F may provide `std::string onnx(ExportGraph&, const std::string& x) const`.
  std::string export_activation(ExportGraph& graph, const std::string& x) const override {
    if constexpr (requires(const F& f, ExportGraph& g) { f.onnx(g, x); }) return f_.onnx(graph, x);
    else return ActivationOp::export_activation(graph, x);
  }

 private:
  F f_;
};

// Builds the activation an `activation:` attribute names (a name, or a mapping with `type:` and
// the activation's own attributes). Fails at the attribute when the name is unknown or names an
// op that is not an activation, listing the registered activations.
std::unique_ptr<ActivationOp> activation_attr(AttrMap& attrs, const std::string& key,
                                              const std::string& fallback = "linear");
// Registered activations, comma-separated (for messages and `anneal list`).
std::string activation_names();

// Numerically safe logistic function, shared by sigmoid, silu and the logit losses.
inline float stable_sigmoid(float x);

}  // namespace anneal

#include <cmath>

namespace anneal {
inline float stable_sigmoid(float x) {
  if (x >= 0) return 1.0f / (1.0f + std::exp(-x));
  const float e = std::exp(x);
  return e / (1.0f + e);
}
}  // namespace anneal
