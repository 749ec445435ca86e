// global_avg_pool2d: Keras' GlobalAveragePooling2D, [C, H, W] -> [C], the mean of each plane.
#include "window2d.hpp"

namespace anneal {
namespace {

class GlobalAvgPool2dOp : public GlobalPool2dOp {
 public:
  std::string export_onnx(ExportGraph& g, const ExportNode& node) const override { return export_global(g, node, "GlobalAveragePool"); }
  explicit GlobalAvgPool2dOp(AttrMap&) : GlobalPool2dOp("global_avg_pool2d") {}
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
};

ANNEAL_REGISTER(OpRegistry, "global_avg_pool2d", GlobalAvgPool2dOp);

}  // namespace
}  // namespace anneal
