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

  // Its one input's gradient is dZ Wᵀ, written by the product with nothing added (β = 0).
  bool write_input_gradient(size_t) override { return writes_input_gradient_ = true; }

  Workspace workspace(int64_t max_batch) const override {
    const int64_t rows = checked_mul(max_batch, rows_per_sample_);
    const int64_t z = checked_mul(rows, units_);
    // Scratch: the activation's derivative dZ (unless linear), then the bias gradient's partial
    // column sums, one row per group of rows.
    const int64_t sums = use_bias_ ? checked_mul(groups_of(rows), units_) : 0;
    if (activation_->is_identity()) return {0, sums};
    return {keeps_preactivation() ? z : 0, checked_add(z, sums)};
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
    for_row_groups(ctx, rows, [&](int64_t, int64_t r, int64_t n) {
      activate_rows(z + r * units_, y + r * units_, bias, n);
      if (convert) ctx.gemm->convert_block(y + r * units_, static_cast<size_t>(n * units_));
    });
  }

  void backward(const OpContext& ctx) const override {
    const int64_t rows = ctx.batch * rows_per_sample_;
    const size_t size = static_cast<size_t>(rows * units_);
    // Both products read dZ: in mixed_bfloat16 it is converted once, as the activation's
    // derivative writes it, and held for them.
    const bool products = !ctx.param_grads[0].empty() || !ctx.input_grads[0].empty();
    const bool identity = activation_->is_identity();
    float* out = identity ? nullptr : ctx.scratch.data();
    const float* dz = identity ? ctx.output_grad.data : out;
    float* db = use_bias_ && !ctx.param_grads[1].empty() ? ctx.param_grads[1].data : nullptr;
    float* sums = db ? ctx.scratch.data() + (identity ? 0 : size) : nullptr;
    const bool convert = products && ctx.gemm && ctx.gemm->begin_converted(dz, size, GemmRunner::ConvertedFor::kThisOp);
    // One pass over dZ, a block of rows at a time while it is in cache: the derivative, the
    // bfloat16 copy, and the bias gradient's column sums for the block's group.
    if (!identity || convert || db) {
      const float* pre = keeps_preactivation() ? ctx.saved.data() : nullptr;
      for_row_groups(ctx, rows, [&](int64_t group, int64_t r, int64_t n) {
        const int64_t at = r * units_;
        if (!identity)
          activation_->activate_backward(pre ? pre + at : nullptr, ctx.output.data + at, ctx.output_grad.data + at, out + at, n,
                                         units_, false);
        if (convert) ctx.gemm->convert_block(dz + at, static_cast<size_t>(n * units_));
        if (db) add_rows(dz + at, n, sums + group * units_, r == group * group_rows(rows));
      });
    }
    if (db) sum_groups(ctx, sums, groups_of(rows), db);
    // dW[in, units] = X[rows, in]ᵀ · dZ[rows, units]  (written: the kernel belongs to this node)
    // dX[rows, in] (+)= dZ[rows, units] · W[in, units]ᵀ  (written when this node alone reads X)
    // Independent of each other: side by side where the plan runs them so (GemmRunner::run_independent).
    const GemmCall kernel_gradient{kernel_gradient_gemm(rows), ctx.inputs[0].data, dz, ctx.param_grads[0].data};
    const GemmCall input_gradient{input_gradient_gemm(rows), dz, ctx.params[0].data, ctx.input_grads[0].data};
    const bool dw = !ctx.param_grads[0].empty(), dx = !ctx.input_grads[0].empty();
    if (dw && dx) gemm_independent(ctx.gemm, kernel_gradient, input_gradient);
    else if (dw) gemm(ctx.gemm, kernel_gradient.shape, kernel_gradient.a, kernel_gradient.b, kernel_gradient.c);
    else if (dx) gemm(ctx.gemm, input_gradient.shape, input_gradient.a, input_gradient.b, input_gradient.c);
  }

 private:
  // Rows per block of the elementwise passes: 16 KiB of values, so a block is still in the
  // first-level cache when it is converted (mixed_bfloat16) or summed (the bias gradient).
  static constexpr int64_t kBlockFloats = 4096;
  // The bias gradient sums each column over the rows in a fixed order whatever the threads: in
  // row order within each of at most kGroups groups of whole blocks (the passes split over
  // groups), then the groups' sums in order.
  static constexpr int64_t kGroups = 16;
  int64_t block_rows() const { return std::max<int64_t>(1, kBlockFloats / units_); }
  int64_t group_rows(int64_t rows) const {
    const int64_t blocks = (rows + block_rows() - 1) / block_rows();
    return block_rows() * ((blocks + kGroups - 1) / kGroups);
  }
  int64_t groups_of(int64_t rows) const { return rows < 1 ? 0 : (rows + group_rows(rows) - 1) / group_rows(rows); }
  // Calls pass(group, first_row, row_count) over blocks of rows covering [0, rows), the groups
  // split over the context's threads. Each block is converted while in cache; each row is
  // computed on its own, so only the bias gradient's sums depend on the grouping, and that does
  // not depend on the threads.
  template <class Pass>
  void for_row_groups(const OpContext& ctx, int64_t rows, Pass&& pass) const {
    const int64_t per_group = group_rows(rows), block = block_rows();
    parallel_for(split_threads(ctx.threads, rows * units_), groups_of(rows), [&](int64_t first, int64_t last) {
      for (int64_t g = first; g < last; ++g)
        for (int64_t r = g * per_group; r < std::min(rows, (g + 1) * per_group); r += block)
          pass(g, r, std::min(block, rows - r));
    });
  }
  // sums[j] (+)= Σ over n rows of x[r, j]; `first` starts the sums at the first row.
  void add_rows(const float* x, int64_t n, float* sums, bool first) const {
    if (first) std::copy(x, x + units_, sums);
    for (int64_t r = first ? 1 : 0; r < n; ++r)
      for (int64_t j = 0; j < units_; ++j) sums[j] += x[r * units_ + j];
  }
  // db[j] = the groups' sums of column j added in order; the columns split over the threads.
  void sum_groups(const OpContext& ctx, const float* sums, int64_t groups, float* db) const {
    if (groups == 0) return std::fill(db, db + units_, 0.0f);  // no rows: nothing to add
    parallel_for(split_threads(ctx.threads, groups * units_), units_, [&](int64_t first, int64_t last) {
      std::copy(sums + first, sums + last, db + first);
      for (int64_t g = 1; g < groups; ++g)
        for (int64_t j = first; j < last; ++j) db[j] += sums[g * units_ + j];
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
  GemmShape input_gradient_gemm(int64_t rows) const {
    return {false, true, rows, in_, units_, units_, units_, in_, !writes_input_gradient_};
  }

  int64_t units_;
  bool use_bias_;
  std::unique_ptr<ActivationOp> activation_;
  AttrMap kernel_init_, bias_init_;
  int64_t in_ = 0, rows_per_sample_ = 1;
  bool writes_input_gradient_ = false;
};

ANNEAL_REGISTER(OpRegistry, "dense", DenseOp);

}  // namespace
}  // namespace anneal
