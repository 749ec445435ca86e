// max_pool2d: Keras' MaxPooling2D on [C, H, W]: pool_size (2), strides (pool_size), padding
// valid|same (padded cells never win). Backward routes each output's gradient to the first
// cell that holds its maximum, found again from the saved output (no index buffer).
#include <limits>

#include "window2d.hpp"

namespace anneal {
namespace {

class MaxPool2dOp : public Op {
 public:
  explicit MaxPool2dOp(AttrMap& a) {
    std::tie(win_.kh, win_.kw) = pair_attr(a, "pool_size", {2, 2});
    std::tie(win_.sh, win_.sw) = pair_attr(a, "strides", {win_.kh, win_.kw});
    win_.same = padding_attr(a);
  }
  Shape infer_shape(const std::vector<Shape>& in) const override {
    require_image(in[0], "max_pool2d");
    Window2d w = win_;
    w.set_input(in[0][1], in[0][2]);
    return Shape{in[0][0], w.out_h, w.out_w};
  }
  void prepare(const std::vector<Shape>& in) override {
    channels_ = in[0][0];
    win_.set_input(in[0][1], in[0][2]);
  }
  Flops flops(const std::vector<Shape>&, const Shape& out) const override {
    const double n = static_cast<double>(out.numel() * win_.kh * win_.kw);
    return {n, n};
  }

  void forward(const OpContext& ctx) const override {
    const int64_t planes = ctx.batch * channels_, in_plane = win_.h * win_.w, out_plane = win_.out_size();
    for (int64_t pl = 0; pl < planes; ++pl) {
      const float* x = ctx.inputs[0].data + pl * in_plane;
      float* y = ctx.output.data + pl * out_plane;
      for (int64_t oh = 0; oh < win_.out_h; ++oh)
        for (int64_t ow = 0; ow < win_.out_w; ++ow) y[oh * win_.out_w + ow] = x[argmax(x, oh, ow)];
    }
  }

  void backward(const OpContext& ctx) const override {
    if (ctx.input_grads[0].empty()) return;
    const int64_t planes = ctx.batch * channels_, in_plane = win_.h * win_.w, out_plane = win_.out_size();
    for (int64_t pl = 0; pl < planes; ++pl) {
      const float* x = ctx.inputs[0].data + pl * in_plane;
      float* dx = ctx.input_grads[0].data + pl * in_plane;
      for (int64_t oh = 0; oh < win_.out_h; ++oh)
        for (int64_t ow = 0; ow < win_.out_w; ++ow) {
          const int64_t o = pl * out_plane + oh * win_.out_w + ow;
          dx[argmax(x, oh, ow)] += ctx.output_grad.data[o];
        }
    }
  }

 private:
  // The first cell of the window holding the maximum. Every window overlaps the input: `same`
  // pads less than a window on each side.
  int64_t argmax(const float* x, int64_t oh, int64_t ow) const {
    float best = -std::numeric_limits<float>::infinity();
    int64_t at = -1;
    for (int64_t i = 0; i < win_.kh; ++i) {
      const int64_t ih = oh * win_.sh - win_.pad_top + i;
      if (ih < 0 || ih >= win_.h) continue;
      for (int64_t j = 0; j < win_.kw; ++j) {
        const int64_t iw = ow * win_.sw - win_.pad_left + j;
        if (iw < 0 || iw >= win_.w) continue;
        if (at < 0 || x[ih * win_.w + iw] > best) {
          best = x[ih * win_.w + iw];
          at = ih * win_.w + iw;
        }
      }
    }
    return at;
  }

  Window2d win_;
  int64_t channels_ = 0;
};

ANNEAL_REGISTER(OpRegistry, "max_pool2d", MaxPool2dOp);

}  // namespace
}  // namespace anneal
