// dense: y = activation(x W + b) over the last axis. W is [in, units] (Keras' kernel layout).
// The bias and the activation are applied in one pass after the sgemm; when the activation's
// derivative needs its input (gelu, silu), the pre-activation is kept in the saved workspace.
#include <algorithm>
#include <vector>

#include "anneal/export_graph.hpp"
#include "anneal/activation.hpp"
#include "anneal/blas.hpp"
#include "anneal/gemm.hpp"
#include "anneal/op.hpp"
#include "anneal/parallel.hpp"
#include "anneal/spec.hpp"

namespace anneal {
namespace {

class DenseOp : public Op {
 public:
  // MatMul with the [in, units] kernel (batched over any leading axes), Add the bias, then the
  // activation's own form.
  std::string export_onnx(ExportGraph& g, const ExportNode& node) const override {
    const int64_t in = node.input_shapes[0].back();
    std::string y = g.node("MatMul", {node.inputs[0], g.constant(node.name + "/kernel", {in, units_}, node.params[0])});
    if (use_bias_) y = g.node("Add", {y, g.constant(node.name + "/bias", {units_}, node.params[1])});
    return activation_->export_activation(g, y);
  }
  explicit DenseOp(AttrMap& a) : units_(a.get<int64_t>("units")), use_bias_(a.get<bool>("use_bias", true)) {
    a.require(units_ > 0, "units", "must be a positive integer, got " + std::to_string(units_));
    activation_ = activation_attr(a, "activation");
    kernel_init_ = initializer_attr(a, "kernel_initializer");
    if (use_bias_) bias_init_ = initializer_attr(a, "bias_initializer");
  }

  Shape infer_shape(const std::vector<Shape>& in) const override {
    Shape out = in[0];
    out[out.rank() - 1] = units_;
    return out;
  }

  std::vector<ParamSpec> param_specs(const std::vector<Shape>& in) const override {
    std::vector<ParamSpec> specs{{"kernel", Shape{in[0].back(), units_}, kernel_init_, "glorot_uniform", {}}};
    if (use_bias_) specs.push_back({"bias", Shape{units_}, bias_init_, "zeros", {}});
    return specs;
  }

  void prepare(const std::vector<Shape>& in) override {
    in_ = in[0].back();
    rows_per_sample_ = in[0].numel() / in_;
  }

  Workspace workspace(int64_t max_batch) const override {
    const int64_t z = checked_mul(checked_mul(max_batch, rows_per_sample_), units_);
    if (activation_->is_identity()) return {};
    return {keeps_preactivation() ? z : 0, z};
  }

  bool product_reads_input(size_t) const override { return true; }  // X in forward and kernel gradient

  std::vector<GemmShape> gemms(int64_t max_batch) const override {
    const int64_t rows = max_batch * rows_per_sample_;
    return {forward_gemm(rows), kernel_gradient_gemm(rows), input_gradient_gemm(rows)};
  }

  Flops flops(const std::vector<Shape>&, const Shape& out) const override {
    const double matmul = 2.0 * static_cast<double>(rows_per_sample_ * in_ * units_);
    const double tail = activation_->is_identity() ? 0 : activation_->flops({out}, out).forward;
    return {matmul + static_cast<double>(out.numel()) + tail, 2 * matmul + static_cast<double>(out.numel()) + tail, matmul};
  }

  void forward(const OpContext& ctx) const override {
    const int64_t rows = ctx.batch * rows_per_sample_;
    float* y = ctx.output.data;
    float* z = keeps_preactivation() ? ctx.saved.data() : y;
    // Z[rows, units] = X[rows, in] · W[in, units]
    gemm(ctx.gemm, forward_gemm(rows), ctx.inputs[0].data, ctx.params[0].data, z);
    const float* bias = use_bias_ ? ctx.params[1].data : nullptr;
    if (!bias && activation_->is_identity()) return;
    // The bias and the activation, a block of rows at a time; in mixed_bfloat16, when products
    // read y next (a following dense layer's forward and kernel gradient), each block is
    // converted for them while it is still in cache.
    const bool convert = ctx.output_feeds_products && ctx.gemm &&
                         ctx.gemm->begin_converted(y, static_cast<size_t>(rows * units_), GemmRunner::ConvertedFor::kLaterOps);
    for_row_blocks(ctx, rows, convert, [&](int64_t r, int64_t n) {
      activate_rows(z + r * units_, y + r * units_, bias, n);
      if (convert) ctx.gemm->convert_block(y + r * units_, static_cast<size_t>(n * units_));
    });
  }

  void backward(const OpContext& ctx) const override {
    const int64_t rows = ctx.batch * rows_per_sample_;
    const float* dz = ctx.output_grad.data;
    const size_t size = static_cast<size_t>(rows * units_);
    // Both products read dZ: in mixed_bfloat16 it is converted once, as the activation's
    // derivative writes it, and held for them.
    const bool products = !ctx.param_grads[0].empty() || !ctx.input_grads[0].empty();
    if (!activation_->is_identity()) {
      float* out = ctx.scratch.data();
      const float* pre = keeps_preactivation() ? ctx.saved.data() : nullptr;
      const bool convert = products && ctx.gemm && ctx.gemm->begin_converted(out, size, GemmRunner::ConvertedFor::kThisOp);
      for_row_blocks(ctx, rows, convert, [&](int64_t r, int64_t n) {
        const int64_t at = r * units_;
        activation_->activate_backward(pre ? pre + at : nullptr, ctx.output.data + at, dz + at, out + at, n, units_, false);
        if (convert) ctx.gemm->convert_block(out + at, static_cast<size_t>(n * units_));
      });
      dz = out;
    } else if (products && ctx.gemm && ctx.gemm->begin_converted(dz, size, GemmRunner::ConvertedFor::kThisOp)) {
      ctx.gemm->convert_block(dz, size);
    }
    if (use_bias_ && !ctx.param_grads[1].empty()) {
      // Each column summed over the rows in order; the columns split over the pass's threads.
      float* db = ctx.param_grads[1].data;
      parallel_for(split_threads(ctx.threads, rows * units_), units_, [&](int64_t first, int64_t last) {
        std::copy(dz + first, dz + last, db + first);
        for (int64_t r = 1; r < rows; ++r)
          for (int64_t j = first; j < last; ++j) db[j] += dz[r * units_ + j];
      });
    }
    // dW[in, units] = X[rows, in]ᵀ · dZ[rows, units]  (written: the kernel belongs to this node)
    // dX[rows, in] += dZ[rows, units] · W[in, units]ᵀ
    // Independent of each other: side by side where the plan runs them so (GemmRunner::run_independent).
    const GemmCall kernel_gradient{kernel_gradient_gemm(rows), ctx.inputs[0].data, dz, ctx.param_grads[0].data};
    const GemmCall input_gradient{input_gradient_gemm(rows), dz, ctx.params[0].data, ctx.input_grads[0].data};
    const bool dw = !ctx.param_grads[0].empty(), dx = !ctx.input_grads[0].empty();
    if (dw && dx) gemm_independent(ctx.gemm, kernel_gradient, input_gradient);
    else if (dw) gemm(ctx.gemm, kernel_gradient.shape, kernel_gradient.a, kernel_gradient.b, kernel_gradient.c);
    else if (dx) gemm(ctx.gemm, input_gradient.shape, input_gradient.a, input_gradient.b, input_gradient.c);
  }

 private:
  // Rows per block of the elementwise passes in mixed_bfloat16: 16 KiB of values, so a block is
  // still in the first-level cache when it is converted.
  static constexpr int64_t kBlockFloats = 4096;
  // Calls pass(first_row, row_count) over blocks of rows covering [0, rows): blocks of 16 KiB when
  // converting (each converted while in cache) or when the pass splits over the context's threads
  // (the blocks then divide between them), else one block. Each row is computed on its own, so
  // the bits do not depend on the split.
  template <class Pass>
  void for_row_blocks(const OpContext& ctx, int64_t rows, bool convert, Pass&& pass) const {
    const int threads = split_threads(ctx.threads, rows * units_);
    const int64_t block = convert || threads > 1 ? std::max<int64_t>(1, kBlockFloats / units_) : rows;
    const int64_t blocks = (rows + block - 1) / block;
    parallel_for(threads, blocks, [&](int64_t first, int64_t last) {
      for (int64_t b = first; b < last; ++b) {
        const int64_t r = b * block;
        pass(r, std::min(block, rows - r));
      }
    });
  }
  bool keeps_preactivation() const { return activation_->needs_preactivation(); }
  // y = f(z + bias) over n rows; z is y unless the pre-activation is kept (then z keeps z + bias).
  void activate_rows(float* z, float* y, const float* bias, int64_t n) const {
    if (!keeps_preactivation()) {
      if (bias) activation_->activate_with_bias(y, bias, n, units_);
      else activation_->activate(y, y, n, units_);
      return;
    }
    if (bias)
      for (int64_t i = 0; i < n; ++i)
        for (int64_t j = 0; j < units_; ++j) z[i * units_ + j] += bias[j];
    activation_->activate(z, y, n, units_);
  }
  // The three products, for `rows` rows of input; gemms() declares them at the largest batch.
  GemmShape forward_gemm(int64_t rows) const { return {false, false, rows, units_, in_, in_, units_, units_, false}; }
  GemmShape kernel_gradient_gemm(int64_t rows) const { return {true, false, in_, units_, rows, in_, units_, units_, false}; }
  GemmShape input_gradient_gemm(int64_t rows) const { return {false, true, rows, in_, units_, units_, units_, in_, true}; }

  int64_t units_;
  bool use_bias_;
  std::unique_ptr<ActivationOp> activation_;
  AttrMap kernel_init_, bias_init_;
  int64_t in_ = 0, rows_per_sample_ = 1;
};

ANNEAL_REGISTER(OpRegistry, "dense", DenseOp);

}  // namespace
}  // namespace anneal
