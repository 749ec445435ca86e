// dropout: while training, zeroes each value with probability `rate` and scales the rest by
// 1 / (1 - rate) (inverted dropout), so inference is the identity. The mask comes from the
// executor's seeded dropout stream and is kept in the saved workspace for backward.
#include <algorithm>

#include "anneal/export_graph.hpp"
#include "anneal/op.hpp"
#include "anneal/rng.hpp"

namespace anneal {
namespace {

class DropoutOp : public Op {
 public:
  // Inference passes values through unchanged (inverted dropout scales during training).
  std::string export_onnx(ExportGraph&, const ExportNode& node) const override { return node.inputs[0]; }
  explicit DropoutOp(AttrMap& a) : rate_(a.get<double>("rate")) {
    a.require(rate_ >= 0 && rate_ < 1, "rate", "must be in [0, 1)");
  }
  Shape infer_shape(const std::vector<Shape>& in) const override { return in[0]; }
  void prepare(const std::vector<Shape>& in) override { sample_ = in[0].numel(); }
  Workspace workspace(int64_t max_batch) const override { return {max_batch * sample_, 0}; }

  void forward(const OpContext& ctx) const override {
    const int64_t n = ctx.batch * ctx.output.sample_size();
    const float* x = ctx.inputs[0].data;
    float* y = ctx.output.data;
    float* mask = ctx.saved.data();
    if (!ctx.training || rate_ == 0) {
      std::copy(x, x + n, y);
      std::fill(mask, mask + n, 1.0f);
      return;
    }
    const float keep_scale = static_cast<float>(1.0 / (1.0 - rate_));
    for (int64_t i = 0; i < n; ++i) {
      mask[i] = ctx.rng->uniform() < rate_ ? 0.0f : keep_scale;
      y[i] = x[i] * mask[i];
    }
  }

  void backward(const OpContext& ctx) const override {
    if (ctx.input_grads[0].empty()) return;
    const int64_t n = ctx.batch * ctx.output.sample_size();
    float* dx = ctx.input_grads[0].data;
    const float* mask = ctx.saved.data();
    for (int64_t i = 0; i < n; ++i) dx[i] += ctx.output_grad.data[i] * mask[i];
  }

 private:
  double rate_;
  int64_t sample_ = 0;
};

ANNEAL_REGISTER(OpRegistry, "dropout", DropoutOp);

}  // namespace
}  // namespace anneal
