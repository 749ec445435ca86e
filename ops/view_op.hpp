#pragma once
// flatten and reshape change only the per-sample shape: the values keep their order. Each node
// owns its output buffer, so forward copies and backward adds the gradient back unchanged.
#include <algorithm>

#include "anneal/export_graph.hpp"
#include "anneal/op.hpp"

namespace anneal {

class ViewOp : public Op {
 public:
  // Reshape to [batch (0: copied from the input), per-sample output shape].
  std::string export_onnx(ExportGraph& g, const ExportNode& node) const override {
    std::vector<int64_t> dims = batch_dims(node.output_shape);
    dims[0] = 0;
    return g.node("Reshape", {node.inputs[0], g.int64_constant(node.name + "/shape", {static_cast<int64_t>(dims.size())}, dims)}, {},
                  node.name);
  }
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
