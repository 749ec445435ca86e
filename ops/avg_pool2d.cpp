// avg_pool2d: Keras' AveragePooling2D on [C, H, W]: pool_size (2), strides (pool_size), padding
// valid|same. With `same`, a window on the border averages only the cells inside the image, as
// Keras does (padding is not counted).
#include "window2d.hpp"

namespace anneal {
namespace {

class AvgPool2dOp : public Pool2dOp {
 public:
  std::string export_onnx(ExportGraph& g, const ExportNode& node) const override { return export_pool(g, node, "AveragePool"); }
  explicit AvgPool2dOp(AttrMap& a) : Pool2dOp(a, "avg_pool2d") {}
  void forward(const OpContext& ctx) const override {
    visit(ctx.batch, [&](int64_t in, int64_t out, float scale) { ctx.output.data[out] += ctx.inputs[0].data[in] * scale; },
          ctx.output.data);
  }
  void backward(const OpContext& ctx) const override {
    if (ctx.input_grads[0].empty()) return;
    visit(ctx.batch, [&](int64_t in, int64_t out, float scale) { ctx.input_grads[0].data[in] += ctx.output_grad.data[out] * scale; },
          nullptr);
  }

 private:
  // Calls f(input index, output index, 1 / cells in the window) for every cell of every window;
  // clears `clear` (the output) first.
  template <class F>
  void visit(int64_t batch, F f, float* clear) const {
    const int64_t planes = batch * channels_, in_plane = win_.h * win_.w, out_plane = win_.out_size();
    if (clear) std::fill(clear, clear + planes * out_plane, 0.0f);
    for (int64_t pl = 0; pl < planes; ++pl)
      for (int64_t oh = 0; oh < win_.out_h; ++oh)
        for (int64_t ow = 0; ow < win_.out_w; ++ow) {
          const int64_t h0 = win_.row_begin(oh), h1 = win_.row_end(oh);
          const int64_t w0 = win_.col_begin(ow), w1 = win_.col_end(ow);
          const float scale = 1.0f / static_cast<float>((h1 - h0) * (w1 - w0));
          const int64_t out = pl * out_plane + oh * win_.out_w + ow;
          for (int64_t ih = h0; ih < h1; ++ih)
            for (int64_t iw = w0; iw < w1; ++iw) f(pl * in_plane + ih * win_.w + iw, out, scale);
        }
  }

};

ANNEAL_REGISTER(OpRegistry, "avg_pool2d", AvgPool2dOp);

}  // namespace
}  // namespace anneal
