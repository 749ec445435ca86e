// global_avg_pool2d: Keras' GlobalAveragePooling2D, [C, H, W] -> [C], the mean of each plane.
#include "window2d.hpp"

namespace anneal {
namespace {

class GlobalAvgPool2dOp : public Op {
 public:
  explicit GlobalAvgPool2dOp(AttrMap&) {}
  Shape infer_shape(const std::vector<Shape>& in) const override {
    require_image(in[0], "global_avg_pool2d");
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
      double sum = 0;
      for (int64_t i = 0; i < plane_; ++i) sum += x[i];
      ctx.output.data[p] = static_cast<float>(sum / static_cast<double>(plane_));
    }
  }
  void backward(const OpContext& ctx) const override {
    if (ctx.input_grads[0].empty()) return;
    const int64_t planes = ctx.batch * ctx.output.sample_size();
    const float scale = 1.0f / static_cast<float>(plane_);
    for (int64_t p = 0; p < planes; ++p) {
      float* dx = ctx.input_grads[0].data + p * plane_;
      const float g = ctx.output_grad.data[p] * scale;
      for (int64_t i = 0; i < plane_; ++i) dx[i] += g;
    }
  }

 private:
  int64_t plane_ = 1;
};

ANNEAL_REGISTER(OpRegistry, "global_avg_pool2d", GlobalAvgPool2dOp);

}  // namespace
}  // namespace anneal
