// max_pool2d: Keras' MaxPooling2D on [C, H, W]: pool_size (2), strides (pool_size), padding
// valid|same (padded cells never win). Forward keeps, per output, the index of the first cell
// holding the window's maximum (in the saved workspace); backward adds each output's gradient
// there.
#include <algorithm>
#include <bit>

#include "anneal/parallel.hpp"
#include "window2d.hpp"

namespace anneal {
namespace {

class MaxPool2dOp : public Pool2dOp {
 public:
  std::string export_onnx(ExportGraph& g, const ExportNode& node) const override { return export_pool(g, node, "MaxPool"); }
  explicit MaxPool2dOp(AttrMap& a) : Pool2dOp(a, "max_pool2d") {}
  Workspace workspace(int64_t max_batch) const override { return {max_batch * channels_ * win_.out_size(), 0}; }

  void forward(const OpContext& ctx) const override {
    const int64_t planes = ctx.batch * channels_;
    // The common 2x2, stride 2 pool whose windows all lie inside the image gets a loop of its own.
    const bool two_by_two = win_.kh == 2 && win_.kw == 2 && win_.sh == 2 && win_.sw == 2 && win_.pad_top == 0 &&
                            win_.pad_left == 0 && 2 * win_.out_h <= win_.h && 2 * win_.out_w <= win_.w;
    // The planes split over the pass's threads.
    parallel_for(ctx.threads, planes, [&](int64_t first, int64_t last) {
      for (int64_t pl = first; pl < last; ++pl) pool_plane(ctx, pl, two_by_two);
    });
  }

  void backward(const OpContext& ctx) const override {
    if (ctx.input_grads[0].empty()) return;
    const int64_t planes = ctx.batch * channels_, in_plane = win_.h * win_.w, out_plane = win_.out_size();
    parallel_for(ctx.threads, planes, [&](int64_t first, int64_t last) {
      for (int64_t pl = first; pl < last; ++pl) {
        float* dx = ctx.input_grads[0].data + pl * in_plane;
        const float* dy = ctx.output_grad.data + pl * out_plane;
        const float* where = ctx.saved.data() + pl * out_plane;
        for (int64_t o = 0; o < out_plane; ++o) dx[std::bit_cast<int32_t>(where[o])] += dy[o];
      }
    });
  }

 private:
  // Plane pl (a sample's channel) of the output and of the winners' indices.
  void pool_plane(const OpContext& ctx, int64_t pl, bool two_by_two) const {
    const int64_t in_plane = win_.h * win_.w, out_plane = win_.out_size();
    const float* x = ctx.inputs[0].data + pl * in_plane;
    float* y = ctx.output.data + pl * out_plane;
    float* where = ctx.saved.data() + pl * out_plane;  // int32 indices, stored bit for bit
    for (int64_t oh = 0; oh < win_.out_h; ++oh) {
      float* y_row = y + oh * win_.out_w;
      float* where_row = where + oh * win_.out_w;
      if (two_by_two) {
        const int64_t top = 2 * oh * win_.w;
        for (int64_t ow = 0; ow < win_.out_w; ++ow) {
          int64_t at = top + 2 * ow;
          float best = x[at];
          for (const int64_t cell : {top + 2 * ow + 1, top + win_.w + 2 * ow, top + win_.w + 2 * ow + 1}) {
            // Branch-free: which cell wins is data, and a mispredicted branch costs more than
            // the arithmetic (a conditional here compiles to a jump).
            const int64_t mask = -static_cast<int64_t>(x[cell] > best);
            best = std::max(best, x[cell]);
            at = (cell & mask) | (at & ~mask);
          }
          y_row[ow] = best;
          where_row[ow] = std::bit_cast<float>(static_cast<int32_t>(at));
        }
        continue;
      }
      for (int64_t ow = 0; ow < win_.out_w; ++ow) {
        const auto at = static_cast<int32_t>(argmax(x, oh, ow));
        y_row[ow] = x[at];
        where_row[ow] = std::bit_cast<float>(at);
      }
    }
  }

  // The first cell of the window holding the maximum (row-major order). Every window overlaps
  // the input: `same` pads less than a window on each side.
  int64_t argmax(const float* x, int64_t oh, int64_t ow) const {
    const int64_t h0 = win_.row_begin(oh), h1 = win_.row_end(oh), w0 = win_.col_begin(ow), w1 = win_.col_end(ow);
    int64_t at = h0 * win_.w + w0;
    float best = x[at];
    for (int64_t ih = h0; ih < h1; ++ih) {
      const float* line = x + ih * win_.w;
      for (int64_t iw = w0; iw < w1; ++iw) {
        const int64_t mask = -static_cast<int64_t>(line[iw] > best);  // branch-free, as above
        best = std::max(best, line[iw]);
        at = ((ih * win_.w + iw) & mask) | (at & ~mask);
      }
    }
    return at;
  }

};

ANNEAL_REGISTER(OpRegistry, "max_pool2d", MaxPool2dOp);

}  // namespace
}  // namespace anneal
