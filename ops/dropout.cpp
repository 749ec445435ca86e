// dropout: while training, zeroes each value with probability `rate` and scales the rest by
// 1 / (1 - rate) (inverted dropout), so inference is the identity. The mask comes from the
// executor's seeded dropout stream.
#include <vector>

#include "anneal/op.hpp"
#include "anneal/rng.hpp"

namespace anneal {
namespace {

class DropoutOp : public Op {
 public:
  explicit DropoutOp(AttrMap& a) : rate_(a.get<double>("rate")) {
    a.require(rate_ >= 0 && rate_ < 1, "rate", "must be in [0, 1)");
  }
  Shape infer_shape(const std::vector<Shape>& in) const override { return in[0]; }
  void prepare(const std::vector<Shape>& in, int64_t max_batch) override {
    mask_.assign(static_cast<size_t>(max_batch * in[0].numel()), 1.0f);
  }

  void forward(const OpContext& ctx) override {
    const int64_t n = ctx.batch * ctx.output.sample_size();
    const float* x = ctx.inputs[0].data;
    float* y = ctx.output.data;
    if (!ctx.training || rate_ == 0) {
      for (int64_t i = 0; i < n; ++i) y[i] = x[i];
      std::fill(mask_.begin(), mask_.begin() + n, 1.0f);
      return;
    }
    const float keep_scale = static_cast<float>(1.0 / (1.0 - rate_));
    for (int64_t i = 0; i < n; ++i) {
      mask_[static_cast<size_t>(i)] = ctx.rng->uniform() < rate_ ? 0.0f : keep_scale;
      y[i] = x[i] * mask_[static_cast<size_t>(i)];
    }
  }

  void backward(const OpContext& ctx) override {
    if (ctx.input_grads[0].empty()) return;
    const int64_t n = ctx.batch * ctx.output.sample_size();
    float* dx = ctx.input_grads[0].data;
    for (int64_t i = 0; i < n; ++i) dx[i] += ctx.output_grad.data[i] * mask_[static_cast<size_t>(i)];
  }

 private:
  double rate_;
  std::vector<float> mask_;
};

ANNEAL_REGISTER(OpRegistry, "dropout", DropoutOp);

}  // namespace
}  // namespace anneal
