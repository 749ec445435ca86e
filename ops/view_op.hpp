#pragma once
// flatten and reshape change only the per-sample shape: the values keep their order. Each node
// owns its output buffer, so forward copies and backward adds the gradient back unchanged.
#include <algorithm>

#include "anneal/op.hpp"

namespace anneal {

class ViewOp : public Op {
 public:
  void forward(const OpContext& ctx) const override {
    const float* x = ctx.inputs[0].data;
    std::copy(x, x + ctx.batch * ctx.output.sample_size(), ctx.output.data);
  }
  void backward(const OpContext& ctx) const override {
    if (ctx.input_grads[0].empty()) return;
    const int64_t n = ctx.batch * ctx.output.sample_size();
    for (int64_t i = 0; i < n; ++i) ctx.input_grads[0].data[i] += ctx.output_grad.data[i];
  }
};

}  // namespace anneal
