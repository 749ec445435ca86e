// add: elementwise sum of two or more inputs of the same shape.
#include "anneal/export_graph.hpp"
#include "anneal/op.hpp"

namespace anneal {
namespace {

class AddOp : public Op {
 public:
  std::string export_onnx(ExportGraph& g, const ExportNode& node) const override {
    return g.node(node.inputs.size() == 2 ? "Add" : "Sum", node.inputs, {}, node.name);
  }
  explicit AddOp(AttrMap&) {}
  int arity() const override { return kVariadic; }

  Shape infer_shape(const std::vector<Shape>& in) const override { return common_shape(in); }

  void forward(const OpContext& ctx) const override {
    const int64_t n = ctx.batch * ctx.output.sample_size();
    float* y = ctx.output.data;
    const float* x0 = ctx.inputs[0].data;
    for (int64_t i = 0; i < n; ++i) y[i] = x0[i];
    for (size_t k = 1; k < ctx.inputs.size(); ++k) {
      const float* x = ctx.inputs[k].data;
      for (int64_t i = 0; i < n; ++i) y[i] += x[i];
    }
  }

  void backward(const OpContext& ctx) const override {
    const int64_t n = ctx.batch * ctx.output.sample_size();
    for (const auto& grad : ctx.input_grads) {
      if (grad.empty()) continue;
      for (int64_t i = 0; i < n; ++i) grad.data[i] += ctx.output_grad.data[i];
    }
  }
};

ANNEAL_REGISTER(OpRegistry, "add", AddOp);

}  // namespace
}  // namespace anneal
