// flatten: any per-sample shape -> [its number of elements] (Keras Flatten). The values do not
// move; the copy exists because every node owns its output buffer.
#include <algorithm>

#include "anneal/op.hpp"

namespace anneal {
namespace {

class FlattenOp : public Op {
 public:
  explicit FlattenOp(AttrMap&) {}
  Shape infer_shape(const std::vector<Shape>& in) const override { return Shape{in[0].numel()}; }
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

ANNEAL_REGISTER(OpRegistry, "flatten", FlattenOp);

}  // namespace
}  // namespace anneal
