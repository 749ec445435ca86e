#pragma once
// An elementwise activation as a graph op; each activation's op file registers one of these.

#include "anneal/activation.hpp"
#include "anneal/op.hpp"

namespace anneal {

template <ActivationKind Kind>
class ActivationOp : public Op {
 public:
  explicit ActivationOp(AttrMap& attrs) {
    activation_.kind = Kind;
    if constexpr (Kind == ActivationKind::kLeakyRelu) {
      activation_.alpha = static_cast<float>(attrs.get<double>("alpha", 0.3));  // Keras LeakyReLU
      attrs.require(activation_.alpha > 0, "alpha", "must be > 0");
    } else if constexpr (Kind == ActivationKind::kElu) {
      activation_.alpha = static_cast<float>(attrs.get<double>("alpha", 1.0));  // Keras ELU
      attrs.require(activation_.alpha > 0, "alpha", "must be > 0");
    }
  }

  Shape infer_shape(const std::vector<Shape>& in) const override { return in[0]; }

  void forward(const OpContext& ctx) override {
    const int64_t width = ctx.output.shape.back();
    const int64_t rows = ctx.batch * ctx.output.sample_size() / width;
    const float* x = ctx.inputs[0].data;
    float* y = ctx.output.data;
    for (int64_t i = 0; i < rows * width; ++i) y[i] = x[i];
    activation_.apply(y, rows, width);
  }

  void backward(const OpContext& ctx) override {
    if (ctx.input_grads[0].empty()) return;
    const int64_t width = ctx.output.shape.back();
    const int64_t rows = ctx.batch * ctx.output.sample_size() / width;
    activation_.backward(ctx.output.data, ctx.output_grad.data, ctx.input_grads[0].data, rows, width,
                         /*accumulate=*/true);
  }

 private:
  Activation activation_;
};

}  // namespace anneal
