// global_max_pool2d: Keras' GlobalMaxPooling2D, [C, H, W] -> [C], the maximum of each plane.
// Backward routes the gradient to the plane's first maximal cell.
#include <algorithm>

#include "window2d.hpp"

namespace anneal {
namespace {

class GlobalMaxPool2dOp : public Op {
 public:
  explicit GlobalMaxPool2dOp(AttrMap&) {}
  Shape infer_shape(const std::vector<Shape>& in) const override {
    require_image(in[0], "global_max_pool2d");
    return Shape{in[0][0]};
  }
  void prepare(const std::vector<Shape>& in) override { plane_ = in[0][1] * in[0][2]; }
  Flops flops(const std::vector<Shape>& in, const Shape&) const override {
    const double n = static_cast<double>(in[0].numel());
    return {n, n};
  }
  void forward(const OpContext& ctx) const override {
    const int64_t planes = ctx.batch * ctx.output.sample_size();
    for (int64_t p = 0; p < planes; ++p) {
      const float* x = ctx.inputs[0].data + p * plane_;
      ctx.output.data[p] = *std::max_element(x, x + plane_);
    }
  }
  void backward(const OpContext& ctx) const override {
    if (ctx.input_grads[0].empty()) return;
    const int64_t planes = ctx.batch * ctx.output.sample_size();
    for (int64_t p = 0; p < planes; ++p) {
      const float* x = ctx.inputs[0].data + p * plane_;
      ctx.input_grads[0].data[p * plane_ + (std::max_element(x, x + plane_) - x)] += ctx.output_grad.data[p];
    }
  }

 private:
  int64_t plane_ = 1;
};

ANNEAL_REGISTER(OpRegistry, "global_max_pool2d", GlobalMaxPool2dOp);

}  // namespace
}  // namespace anneal
