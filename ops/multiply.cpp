// multiply: elementwise product of two inputs of the same shape (Keras Multiply with two inputs).
#include "anneal/export_graph.hpp"
#include "anneal/op.hpp"

namespace anneal {
namespace {

class MultiplyOp : public Op {
 public:
  std::string export_onnx(ExportGraph& g, const ExportNode& node) const override {
    std::string y = node.inputs[0];
    for (size_t i = 1; i < node.inputs.size(); ++i) y = g.node("Mul", {y, node.inputs[i]});
    return y;
  }
  explicit MultiplyOp(AttrMap&) {}
  int arity() const override { return 2; }
  Shape infer_shape(const std::vector<Shape>& in) const override { return common_shape(in); }
  void forward(const OpContext& ctx) const override {
    const int64_t n = ctx.batch * ctx.output.sample_size();
    const float *a = ctx.inputs[0].data, *b = ctx.inputs[1].data;
    for (int64_t i = 0; i < n; ++i) ctx.output.data[i] = a[i] * b[i];
  }
  void backward(const OpContext& ctx) const override {
    const int64_t n = ctx.batch * ctx.output.sample_size();
    const float* dy = ctx.output_grad.data;
    // da += dy b, db += dy a.
    for (int k = 0; k < 2; ++k) {
      if (ctx.input_grads[k].empty()) continue;
      const float* other = ctx.inputs[1 - k].data;
      for (int64_t i = 0; i < n; ++i) ctx.input_grads[k].data[i] += dy[i] * other[i];
    }
  }
};

ANNEAL_REGISTER(OpRegistry, "multiply", MultiplyOp);

}  // namespace
}  // namespace anneal
