// subtract: the first input minus the second, of the same shape (Keras Subtract).
#include "anneal/export_graph.hpp"
#include "anneal/op.hpp"

namespace anneal {
namespace {

class SubtractOp : public Op {
 public:
  std::string export_onnx(ExportGraph& g, const ExportNode& node) const override { return g.node("Sub", node.inputs, {}, node.name); }
  explicit SubtractOp(AttrMap&) {}
  int arity() const override { return 2; }
  Shape infer_shape(const std::vector<Shape>& in) const override { return common_shape(in); }
  void forward(const OpContext& ctx) const override {
    const int64_t n = ctx.batch * ctx.output.sample_size();
    const float *a = ctx.inputs[0].data, *b = ctx.inputs[1].data;
    for (int64_t i = 0; i < n; ++i) ctx.output.data[i] = a[i] - b[i];
  }
  void backward(const OpContext& ctx) const override {
    const int64_t n = ctx.batch * ctx.output.sample_size();
    const float* dy = ctx.output_grad.data;
    if (!ctx.input_grads[0].empty())
      for (int64_t i = 0; i < n; ++i) ctx.input_grads[0].data[i] += dy[i];
    if (!ctx.input_grads[1].empty())
      for (int64_t i = 0; i < n; ++i) ctx.input_grads[1].data[i] -= dy[i];
  }
};

ANNEAL_REGISTER(OpRegistry, "subtract", SubtractOp);

}  // namespace
}  // namespace anneal
