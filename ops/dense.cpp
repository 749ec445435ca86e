// dense: y = activation(x W + b) over the last axis. W is [in, units] (Keras' kernel layout).
// Bias and activation are applied in one pass after the sgemm.
#include <algorithm>
#include <vector>

#include "anneal/activation.hpp"
#include "anneal/blas.hpp"
#include "anneal/op.hpp"
#include "anneal/spec.hpp"

namespace anneal {
namespace {

class DenseOp : public Op {
 public:
  explicit DenseOp(AttrMap& a) : units_(a.get<int64_t>("units")), use_bias_(a.get<bool>("use_bias", true)) {
    a.require(units_ > 0, "units", "must be a positive integer, got " + std::to_string(units_));
    const auto activation = a.get<std::string>("activation", "linear");
    if (!parse_activation(activation, activation_.kind))
      a.fail("activation", "is '" + activation + "', expected one of " + activation_names());
    activation_.alpha = activation_.kind == ActivationKind::kLeakyRelu ? 0.3f : 1.0f;
    kernel_init_ = init_attrs(a, "kernel_initializer");
    if (use_bias_) bias_init_ = init_attrs(a, "bias_initializer");
  }

  Shape infer_shape(const std::vector<Shape>& in) const override {
    Shape out = in[0];
    out[out.rank() - 1] = units_;
    return out;
  }

  std::vector<ParamSpec> param_specs(const std::vector<Shape>& in) override {
    std::vector<ParamSpec> specs{{"kernel", Shape{in[0].back(), units_}, kernel_init_, "glorot_uniform"}};
    if (use_bias_) specs.push_back({"bias", Shape{units_}, bias_init_, "zeros"});
    return specs;
  }

  void prepare(const std::vector<Shape>& in, int64_t max_batch) override {
    in_ = in[0].back();
    rows_per_sample_ = in[0].numel() / in_;
    if (activation_.kind != ActivationKind::kLinear)
      dz_.assign(static_cast<size_t>(max_batch * rows_per_sample_ * units_), 0.0f);
  }

  void forward(const OpContext& ctx) override {
    const int64_t rows = ctx.batch * rows_per_sample_;
    float* y = ctx.output.data;
    // Y[rows, units] = X[rows, in] · W[in, units]
    blas::gemm(false, false, rows, units_, in_, 1.0f, ctx.inputs[0].data, in_, ctx.params[0].data, units_,
               0.0f, y, units_);
    activation_.apply(y, rows, units_, use_bias_ ? ctx.params[1].data : nullptr);
  }

  void backward(const OpContext& ctx) override {
    const int64_t rows = ctx.batch * rows_per_sample_;
    const float* dz = ctx.output_grad.data;
    if (activation_.kind != ActivationKind::kLinear) {
      activation_.backward(ctx.output.data, ctx.output_grad.data, dz_.data(), rows, units_, false);
      dz = dz_.data();
    }
    // A node's parameters belong to it alone, so their gradients are written, not accumulated,
    // and the executor need not clear them first.
    // dW[in, units] = X[rows, in]ᵀ · dZ[rows, units]
    blas::gemm(true, false, in_, units_, rows, 1.0f, ctx.inputs[0].data, in_, dz, units_, 0.0f,
               ctx.param_grads[0].data, units_);
    if (use_bias_) {
      float* db = ctx.param_grads[1].data;
      std::copy(dz, dz + units_, db);
      for (int64_t r = 1; r < rows; ++r)
        for (int64_t j = 0; j < units_; ++j) db[j] += dz[r * units_ + j];
    }
    // dX[rows, in] += dZ[rows, units] · W[in, units]ᵀ
    if (!ctx.input_grads[0].empty())
      blas::gemm(false, true, rows, in_, units_, 1.0f, dz, units_, ctx.params[0].data, units_, 1.0f,
                 ctx.input_grads[0].data, in_);
  }

 private:
  static AttrMap init_attrs(AttrMap& a, const std::string& key) {
    const YAML::Node node = a.raw(key);
    if (!node.IsDefined() || node.IsNull()) return AttrMap({}, a.origin(), a.child_path(key), a.what() + ": " + key);
    return typed_attrs(node, a.origin(), a.child_path(key), a.what() + ": " + key);
  }

  int64_t units_;
  bool use_bias_;
  Activation activation_;
  AttrMap kernel_init_, bias_init_;
  int64_t in_ = 0, rows_per_sample_ = 1;
  std::vector<float> dz_;
};

ANNEAL_REGISTER(OpRegistry, "dense", DenseOp);

}  // namespace
}  // namespace anneal
