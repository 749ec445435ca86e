// conv2d: Keras' Conv2D on per-sample [C, H, W] images (NCHW with the batch in front).
// Kernel [filters, C, kh, kw] (the ONNX / PyTorch layout), fans as Keras computes them for a
// convolution (C kh kw in, filters kh kw out).
//
// Forward is im2col over the whole batch and one sgemm (Caffe's approach, batched):
//   col[K, N]      K = C kh kw rows (c, i, j), N = B Ho Wo columns (b, oh, ow)
//   Z[F, N]        = W[F, K] · col[K, N]
//   y[b, f, :, :]  = activation(Z[f, b-th block] + bias[f])
// col is kept from forward to backward in the saved workspace (recomputing it cost more than the
// memory: it is K/C times the input's size, 14 MiB for the bench net's second layer at batch 64):
//   dZ[F, N]       = dy · f'  (gathered from [B, F, P] into [F, N])
//   dW[F, K]       = dZ[F, N] · col[K, N]ᵀ,  db[f] = sum of dZ[f, :] (added up while gathering)
//   dcol[K, N]     = W[F, K]ᵀ · dZ[F, N],  then col2im adds it into dX.
// Where the plan runs the convolution direct (oneDNN's kernels on blocked layouts, GemmPlan::
// direct; at the planned batch only), the runner computes Z in [B, F, P] order and, backward, dW
// and dX from dZ in that order: no im2col, col2im, scatter or gather. The bias, the activation
// and its derivative stay here, handed to the runner per (sample, filter) plane: it runs them
// inside its passes between NCHW and oneDNN's layouts, so neither pass reads the planes again
// from memory.
#include <algorithm>
#include <cstring>

#include "anneal/activation.hpp"
#include "anneal/gemm.hpp"
#include "anneal/parallel.hpp"
#include "window2d.hpp"

namespace anneal {
namespace {

class Conv2dOp : public Op {
 public:
  // ONNX Conv takes the kernel as [filters, channels, kh, kw], the layout kept here.
  std::string export_onnx(ExportGraph& g, const ExportNode& node) const override {
    const int64_t channels = node.input_shapes[0][0];
    std::vector<std::string> inputs{node.inputs[0], g.constant(node.name + "/kernel", {filters_, channels, win_.kh, win_.kw}, node.params[0])};
    if (use_bias_) inputs.push_back(g.constant(node.name + "/bias", {filters_}, node.params[1]));
    return activation_->export_activation(g, g.node("Conv", inputs, win_.onnx_attrs(true)));
  }
  explicit Conv2dOp(AttrMap& a) : filters_(a.get<int64_t>("filters")), use_bias_(a.get<bool>("use_bias", true)) {
    a.require(filters_ > 0, "filters", "must be a positive integer, got " + std::to_string(filters_));
    std::tie(win_.kh, win_.kw) = pair_attr(a, "kernel_size", {0, 0});
    if (win_.kh == 0) a.get<int64_t>("kernel_size");  // required: reports it missing
    std::tie(win_.sh, win_.sw) = pair_attr(a, "strides", {1, 1});
    std::tie(win_.dh, win_.dw) = pair_attr(a, "dilation_rate", {1, 1});
    a.require((win_.sh == 1 && win_.sw == 1) || (win_.dh == 1 && win_.dw == 1), "dilation_rate",
              "cannot be combined with strides > 1 (as in Keras)");
    win_.same = padding_attr(a);
    activation_ = activation_attr(a, "activation");
    kernel_init_ = initializer_attr(a, "kernel_initializer");
    if (use_bias_) bias_init_ = initializer_attr(a, "bias_initializer");
  }

  Shape infer_shape(const std::vector<Shape>& in) const override {
    require_image(in[0], "conv2d");
    Window2d w = win_;
    w.set_input(in[0][1], in[0][2]);
    return Shape{filters_, w.out_h, w.out_w};
  }

  std::vector<ParamSpec> param_specs(const std::vector<Shape>& in) const override {
    const double receptive = static_cast<double>(win_.kh * win_.kw);
    const Fans fans{receptive * static_cast<double>(in[0][0]), receptive * static_cast<double>(filters_)};
    std::vector<ParamSpec> specs{{"kernel", Shape{filters_, in[0][0], win_.kh, win_.kw}, kernel_init_, "glorot_uniform", fans}};
    if (use_bias_) specs.push_back({"bias", Shape{filters_}, bias_init_, "zeros", {}});
    return specs;
  }

  void prepare(const std::vector<Shape>& in) override {
    channels_ = in[0][0];
    win_.set_input(in[0][1], in[0][2]);
    k_ = checked_mul(checked_mul(channels_, win_.kh), win_.kw);
  }

  // saved: col [K, N], then the pre-activation [B, F, P] when the activation needs it.
  // scratch: Z or dZ [F, N], then dcol [K, N] (backward).
  Workspace workspace(int64_t max_batch) const override {
    const int64_t n = checked_mul(max_batch, win_.out_size()), col = checked_mul(k_, n), z = checked_mul(filters_, n);
    return {checked_add(col, keeps_preactivation() ? z : 0), checked_add(z, col)};
  }

  std::vector<ConvShape> convolutions(int64_t max_batch) const override { return {conv_shape(max_batch)}; }

  std::vector<GemmShape> gemms(int64_t max_batch) const override {
    const int64_t n = max_batch * win_.out_size();
    return {forward_gemm(n), kernel_gradient_gemm(n), column_gradient_gemm(n)};
  }

  Flops flops(const std::vector<Shape>&, const Shape& out) const override {
    const double p = static_cast<double>(win_.out_size()), matmul = 2.0 * static_cast<double>(filters_ * k_) * p;
    const double tail = static_cast<double>(out.numel()) * (activation_->is_identity() ? 1 : 5);
    // Backward: the kernel's gradient and the input's, each a product of the forward's size.
    return {matmul + tail, 2 * matmul + tail, matmul};
  }

  void forward(const OpContext& ctx) const override {
    const int64_t n = ctx.batch * win_.out_size();
    float* pre = keeps_preactivation() ? ctx.saved.data() + k_ * n : ctx.output.data;
    if (const ConvShape shape = conv_shape(ctx.batch); ctx.gemm && ctx.gemm->direct(shape)) {
      // Z straight into [B, F, P]; bias and activation in place, plane by plane.
      auto finish = [&](int64_t b, int64_t f, float* plane) { bias_and_activate(ctx, plane, b, f, plane); };
      const bool work = use_bias_ || !activation_->is_identity();
      return ctx.gemm->convolve_forward(shape, ctx.inputs[0].data, ctx.params[0].data, pre,
                                        work ? PlaneVisitor(finish) : PlaneVisitor(), ctx.threads);
    }
    float* col = ctx.saved.data();
    float* z = ctx.scratch.data();
    im2col(ctx.inputs[0].data, ctx.batch, col, ctx.gemm, ctx.threads);
    // Z[F, N] = W[F, K] · col[K, N]
    gemm(ctx.gemm, forward_gemm(n), ctx.params[0].data, col, z);
    add_bias_and_activate(ctx, z, pre);
  }

  void backward(const OpContext& ctx) const override {
    const int64_t n = ctx.batch * win_.out_size();
    float* dz = ctx.scratch.data();
    float* dkernel = ctx.param_grads[0].empty() ? nullptr : ctx.param_grads[0].data;
    float* dx = ctx.input_grads[0].empty() ? nullptr : ctx.input_grads[0].data;
    if (const ConvShape shape = conv_shape(ctx.batch); ctx.gemm && ctx.gemm->direct(shape)) {
      // dZ plane by plane where the runner asks (one filter's planes in sample order, on one
      // thread: the bias sums stay the same bits); both gradients from the runner.
      float* db = bias_gradient(ctx);
      auto gradient = [&](int64_t b, int64_t f, float* plane) {
        plane_gradient(ctx, b, f, plane);
        if (db) db[f] += block_sum(plane, win_.out_size());
      };
      return ctx.gemm->convolve_backward(shape, ctx.inputs[0].data, ctx.params[0].data, PlaneVisitor(gradient), dz, dkernel,
                                         dx, ctx.threads);
    }
    const float* col = ctx.saved.data();
    float* dcol = dz + filters_ * n;
    // dZ in [F, N] order. Both products read it: in mixed_bfloat16 each block is converted once,
    // while it is in cache, and held for them.
    const bool convert = (dkernel || dx) && ctx.gemm &&
                         ctx.gemm->begin_converted(dz, static_cast<size_t>(filters_ * n), GemmRunner::ConvertedFor::kThisOp);
    activation_gradient(ctx, dz, convert);
    // dW[F, K] = dZ[F, N] · col[K, N]ᵀ
    if (dkernel) gemm(ctx.gemm, kernel_gradient_gemm(n), dz, col, dkernel);
    if (dx) {
      // dcol[K, N] = W[F, K]ᵀ · dZ[F, N]
      gemm(ctx.gemm, column_gradient_gemm(n), ctx.params[0].data, dz, dcol);
      col2im(dcol, ctx.batch, dx, ctx.threads);
    }
  }

 private:
  bool keeps_preactivation() const { return activation_->needs_preactivation(); }

  // The geometry oneDNN takes: padding after the image is what the last window reaches past it
  // (negative where a `valid` window with a stride leaves rows out).
  ConvShape conv_shape(int64_t batch) const {
    ConvShape s{batch, channels_, win_.h, win_.w, filters_, win_.kh, win_.kw, win_.sh, win_.sw, win_.dh, win_.dw,
                win_.pad_top, win_.pad_left, 0, 0, win_.out_h, win_.out_w};
    s.pad_bottom = (win_.out_h - 1) * win_.sh + (win_.kh - 1) * win_.dh + 1 - win_.h - win_.pad_top;
    s.pad_right = (win_.out_w - 1) * win_.sw + (win_.kw - 1) * win_.dw + 1 - win_.w - win_.pad_left;
    return s;
  }

  // One (sample, filter) plane: pre = z + bias[f], activated into the output while it is still in
  // cache. z is the product's block or pre itself (in place).
  void bias_and_activate(const OpContext& ctx, const float* z, int64_t b, int64_t f, float* pre) const {
    const int64_t p = win_.out_size();
    const float add = use_bias_ ? ctx.params[1].data[f] : 0.0f;
    for (int64_t i = 0; i < p; ++i) pre[i] = z[i] + add;
    if (!activation_->is_identity()) activation_->activate(pre, ctx.output.data + (b * filters_ + f) * p, win_.out_h, win_.out_w);
  }

  // pre[b, f, :] = Z[f, b-th block] + bias[f], activated (the product's [F, N] order: this is the
  // scatter). The samples split over the pass's threads.
  void add_bias_and_activate(const OpContext& ctx, const float* z, float* pre) const {
    const int64_t p = win_.out_size(), n = ctx.batch * p;
    parallel_for(ctx.threads, ctx.batch, [&](int64_t first, int64_t last) {
      for (int64_t b = first; b < last; ++b)
        for (int64_t f = 0; f < filters_; ++f) bias_and_activate(ctx, z + f * n + b * p, b, f, pre + (b * filters_ + f) * p);
    });
  }

  // The bias's gradient, zeroed for the sums the passes add into it; null when not wanted.
  float* bias_gradient(const OpContext& ctx) const {
    float* db = use_bias_ && !ctx.param_grads[1].empty() ? ctx.param_grads[1].data : nullptr;
    if (db) std::fill(db, db + filters_, 0.0f);
    return db;
  }

  // dZ of one (sample, filter) plane: dy through the activation's derivative.
  void plane_gradient(const OpContext& ctx, int64_t b, int64_t f, float* to) const {
    const int64_t p = win_.out_size(), block = (b * filters_ + f) * p;
    const float* dy = ctx.output_grad.data + block;
    if (activation_->is_identity()) return void(std::copy(dy, dy + p, to));
    const float* x = keeps_preactivation() ? ctx.saved.data() + k_ * ctx.batch * p + block : nullptr;
    activation_->activate_backward(x, ctx.output.data + block, dy, to, win_.out_h, win_.out_w, false);
  }

  // dZ into dz as [F, N] (the products' order: this is the gather), each block converted as it is
  // written when `convert`. The bias gradient adds each block up here too, rather than a BLAS call
  // reading dZ again (in mixed_bfloat16 the only OpenBLAS call of a pass, whose threads then spin
  // on the cores oneDNN needs). The filters split over the pass's threads: each filter's blocks,
  // and its bias sum (in sample order, whatever the split), are one thread's.
  void activation_gradient(const OpContext& ctx, float* dz, bool convert) const {
    const int64_t p = win_.out_size(), n = ctx.batch * p;
    float* db = bias_gradient(ctx);
    parallel_for(ctx.threads, filters_, [&](int64_t first, int64_t last) {
      for (int64_t f = first; f < last; ++f)
        for (int64_t b = 0; b < ctx.batch; ++b) {
          float* to = dz + f * n + b * p;
          plane_gradient(ctx, b, f, to);
          if (convert) ctx.gemm->convert_block(to, static_cast<size_t>(p));
          if (db) db[f] += block_sum(to, p);
        }
    });
  }

  // Sixteen running sums the compiler keeps in one vector register, then their total: as fast as
  // memory, and each sum takes p/16 terms rather than p.
  static float block_sum(const float* x, int64_t p) {
    float lanes[16] = {};
    int64_t i = 0;
    for (; i + 16 <= p; i += 16)
      for (int l = 0; l < 16; ++l) lanes[l] += x[i + l];
    float total = 0.0f;
    for (float lane : lanes) total += lane;
    for (; i < p; ++i) total += x[i];
    return total;
  }
  // The three products over n = batch x output positions; gemms() declares them at the largest
  // batch.
  GemmShape forward_gemm(int64_t n) const { return {false, false, filters_, n, k_, k_, n, n, false}; }
  GemmShape kernel_gradient_gemm(int64_t n) const { return {false, true, filters_, k_, n, n, n, k_, false}; }
  GemmShape column_gradient_gemm(int64_t n) const { return {true, false, k_, n, filters_, k_, n, n, false}; }

  // col[(c, i, j), (b, oh, ow)] = x[b, c, oh sh - pad_top + i dh, ow sw - pad_left + j dw], 0 outside;
  // the rows split over the pass's threads. In mixed_bfloat16 each row is converted as soon as it
  // is written: the forward product and the kernel gradient's then read the one copy (col lives in
  // the saved workspace, which the runner keeps until the next pass) instead of each converting
  // all of col from memory.
  void im2col(const float* x, int64_t batch, float* col, GemmRunner* gemm, int threads) const {
    const int64_t n = batch * win_.out_size();
    const bool convert = gemm && gemm->begin_converted(col, static_cast<size_t>(k_ * n), GemmRunner::ConvertedFor::kLaterOps);
    parallel_for(threads, k_, [&](int64_t first, int64_t last) {
      for (int64_t r = first; r < last; ++r) {
        float* row = col + r * n;
        im2col_row(x, batch, r, row);
        if (convert) gemm->convert_block(row, static_cast<size_t>(n));
      }
    });
  }

  // Row r = (c, i, j) of col: input channel c seen through kernel cell (i, j) at every position.
  void im2col_row(const float* x, int64_t batch, int64_t r, float* row) const {
    const int64_t p = win_.out_size(), image = channels_ * win_.h * win_.w;
    const int64_t c = r / (win_.kh * win_.kw), i = r / win_.kw % win_.kh, j = r % win_.kw;
    const int64_t col_offset = j * win_.dw - win_.pad_left;
    int64_t first, last;
    valid_outputs(col_offset, win_.sw, win_.w, win_.out_w, first, last);
    for (int64_t b = 0; b < batch; ++b) {
      const float* plane = x + b * image + c * win_.h * win_.w;
      for (int64_t oh = 0; oh < win_.out_h; ++oh) {
        float* out = row + b * p + oh * win_.out_w;
        const int64_t ih = oh * win_.sh - win_.pad_top + i * win_.dh;
        if (ih < 0 || ih >= win_.h) {
          std::fill(out, out + win_.out_w, 0.0f);
          continue;
        }
        const float* line = plane + ih * win_.w + col_offset;
        std::fill(out, out + first, 0.0f);
        if (win_.sw == 1) {
          std::copy(line + first, line + last, out + first);
        } else {
          for (int64_t ow = first; ow < last; ++ow) out[ow] = line[ow * win_.sw];
        }
        std::fill(out + last, out + win_.out_w, 0.0f);
      }
    }
  }

  // The adjoint of im2col: dx[b, c, ih, iw] += dcol[(c, i, j), (b, oh, ow)]. The channels split
  // over the pass's threads: each adds into its own planes, in the same order whatever the split.
  void col2im(const float* dcol, int64_t batch, float* dx, int threads) const {
    const int64_t p = win_.out_size(), n = batch * p, image = channels_ * win_.h * win_.w;
    parallel_for(threads, channels_, [&](int64_t first_channel, int64_t last_channel) {
      for (int64_t c = first_channel; c < last_channel; ++c)
        for (int64_t i = 0; i < win_.kh; ++i)
          for (int64_t j = 0; j < win_.kw; ++j) {
            const float* row = dcol + ((c * win_.kh + i) * win_.kw + j) * n;
            const int64_t col_offset = j * win_.dw - win_.pad_left;
            int64_t first, last;
            valid_outputs(col_offset, win_.sw, win_.w, win_.out_w, first, last);
            for (int64_t b = 0; b < batch; ++b) {
              float* plane = dx + b * image + c * win_.h * win_.w;
              for (int64_t oh = 0; oh < win_.out_h; ++oh) {
                const int64_t ih = oh * win_.sh - win_.pad_top + i * win_.dh;
                if (ih < 0 || ih >= win_.h) continue;
                const float* in = row + b * p + oh * win_.out_w;
                float* line = plane + ih * win_.w + col_offset;
                for (int64_t ow = first; ow < last; ++ow) line[ow * win_.sw] += in[ow];
              }
            }
          }
    });
  }

  int64_t filters_;
  bool use_bias_;
  Window2d win_;
  std::unique_ptr<ActivationOp> activation_;
  AttrMap kernel_init_, bias_init_;
  int64_t channels_ = 0, k_ = 0;
};

ANNEAL_REGISTER(OpRegistry, "conv2d", Conv2dOp);

}  // namespace
}  // namespace anneal
