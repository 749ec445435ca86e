// global_max_pool2d: Keras' GlobalMaxPooling2D, [C, H, W] -> [C], the maximum of each plane.
// Backward routes the gradient to the plane's first maximal cell.
#include <algorithm>

#include "window2d.hpp"

namespace anneal {
namespace {

class GlobalMaxPool2dOp : public GlobalPool2dOp {
 public:
  std::string export_onnx(ExportGraph& g, const ExportNode& node) const override { return export_global(g, node, "GlobalMaxPool"); }
  explicit GlobalMaxPool2dOp(AttrMap&) : GlobalPool2dOp("global_max_pool2d") {}
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
};

ANNEAL_REGISTER(OpRegistry, "global_max_pool2d", GlobalMaxPool2dOp);

}  // namespace
}  // namespace anneal
