#pragma once
// The operator interface. An op is built from its AttrMap, asked for shapes, parameters, state
// and workspace once at compile time, then run many times on buffers that the executor owns.
// After compilation an op is immutable: forward() and backward() are const and keep nothing in
// the op itself, so two executors over one compiled graph never share memory.
//
// backward() ACCUMULATES into input gradients (+=), so a value that feeds several nodes needs no
// split node, and WRITES its own parameters' gradients (a parameter belongs to one node, so
// nothing needs clearing first). A gradient slot with data == nullptr is not needed (a frozen
// parameter, or an input that leads back to no parameter): skip it.
//
// ops/README.md is the guide to writing one.

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "anneal/attr_map.hpp"
#include "anneal/gemm.hpp"
#include "anneal/initializer.hpp"
#include "anneal/registry.hpp"
#include "anneal/tensor.hpp"

namespace anneal {

class Rng;

// A trainable parameter an op asks for.
struct ParamSpec {
  std::string name;    // "kernel", "bias", "gamma"
  Shape shape;
  AttrMap initializer;  // the initializer's spec (a name or a mapping), resolved by the compiler
  std::string default_initializer;
  // Fans for variance-scaling initializers; when absent they follow Keras' rule for the shape.
  std::optional<Fans> fans;
};

// Non-trainable state an op keeps across batches (batch_norm's moving statistics): saved in
// checkpoints, never seen by optimizers, written only by a training forward pass.
struct StateSpec {
  std::string name;  // "moving_mean"
  Shape shape;
  float initial = 0.0f;
};

// Memory an op needs besides its inputs and output, in floats, for up to max_batch samples.
struct Workspace {
  int64_t saved = 0;    // written by forward, read by the backward of the same batch (masks, statistics)
  int64_t scratch = 0;  // used within one forward or backward call only; shared by every node
};

// Arithmetic per sample, for reports (`anneal check`).
struct Flops {
  double forward = 0;
  double backward = 0;         // everything backward may do
  double input_gradient = 0;   // the part of `backward` skipped when no input needs a gradient
};

struct OpContext {
  int64_t batch = 0;
  bool training = false;
  std::span<const ConstTensorView> inputs;
  TensorView output;
  std::span<const TensorView> params;
  std::span<const TensorView> state;  // per StateSpec
  std::span<float> saved;             // this node's saved workspace
  std::span<float> scratch;           // the shared scratch workspace
  // Backward only:
  ConstTensorView output_grad;
  std::span<const TensorView> input_grads;  // data == nullptr: not needed
  std::span<const TensorView> param_grads;  // data == nullptr: frozen
  Rng* rng = nullptr;  // for stochastic ops (dropout)
  // The executor's GEMM runner: pass it to anneal::gemm() (null runs on OpenBLAS).
  GemmRunner* gemm = nullptr;
  // Threads the op's elementwise passes may use (anneal/parallel.hpp's parallel_for): the pool the
  // products run on when every product of the plan runs there, otherwise 1.
  int threads = 1;
  // Forward: some consumer's matrix products read this node's output as it is (Op::
  // product_reads_input), so under mixed_bfloat16 converting it as it is written saves them a
  // pass (GemmRunner::begin_converted); otherwise that conversion would be wasted.
  bool output_feeds_products = false;
};

class ExportGraph;
struct ExportNode;

class Op {
 public:
  virtual ~Op() = default;

  // Number of inputs; kVariadic for "two or more".
  static constexpr int kVariadic = -1;
  virtual int arity() const { return 1; }

  // Per-sample output shape; throw ShapeMismatch with a message (the compiler adds the place).
  virtual Shape infer_shape(const std::vector<Shape>& inputs) const = 0;
  virtual std::vector<ParamSpec> param_specs(const std::vector<Shape>& /*inputs*/) const { return {}; }
  virtual std::vector<StateSpec> state_specs(const std::vector<Shape>& /*inputs*/) const { return {}; }
  // Called once after shapes are known, at compile time: remember derived sizes here.
  virtual void prepare(const std::vector<Shape>& /*inputs*/) {}
  // Called at compile time, after prepare() and before gemms(), for each input whose gradient
  // this node alone produces (no other node reads that input). Returning true takes the offer:
  // backward then writes every element of input_grads[i] (=) instead of adding to it (+=), and
  // the executor does not clear that buffer first, which saves a pass over it (it may hold
  // another gradient's values until backward writes it). The default declines: the buffer is
  // cleared and backward adds. The gradient checker tests both ways for an op that takes it.
  virtual bool write_input_gradient(size_t /*i*/) { return false; }
  virtual Workspace workspace(int64_t /*max_batch*/) const { return {}; }
  // The matrix products forward and backward will run at max_batch, exactly as they will pass
  // them to anneal::gemm(): the planner picks a library for each (gemm.hpp). A product not
  // declared still runs, on OpenBLAS.
  virtual std::vector<GemmShape> gemms(int64_t /*max_batch*/) const { return {}; }
  // The convolutions forward and backward will run at max_batch, for an op that can hand them to
  // GemmRunner::convolve_forward / convolve_backward. The planner decides whether each runs as
  // oneDNN's direct convolution (GemmPlan::direct); an op that declares convolutions declares in
  // gemms() the products it runs otherwise, which are planned only then. Every other batch, and a
  // run without a runner (the gradient checker), takes the op's own path.
  virtual std::vector<ConvShape> convolutions(int64_t /*max_batch*/) const { return {}; }
  // Whether a declared product reads input `i` as it is, in place (dense's input; not conv2d's,
  // whose products read im2col columns). Tells producers that converting their output as they
  // write it will be used (OpContext::output_feeds_products); false is always safe.
  virtual bool product_reads_input(size_t /*i*/) const { return false; }
  // Default: one operation per output element forward, two backward.
  virtual Flops flops(const std::vector<Shape>& inputs, const Shape& output) const;

  virtual void forward(const OpContext& ctx) const = 0;
  virtual void backward(const OpContext& ctx) const = 0;

  // Adds this node to an exported graph (export_graph.hpp) and returns its output's value name.
  // The default throws ExportError: an op without an export cannot be written out.
  virtual std::string export_onnx(ExportGraph& graph, const ExportNode& node) const;
};

// Thrown by infer_shape; carries only the message.
class ShapeMismatch : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

using OpRegistry = Registry<Op, AttrMap&>;

// The shape every input of an elementwise op (add, multiply, subtract) must share; throws
// ShapeMismatch naming the first two that differ.
Shape common_shape(const std::vector<Shape>& inputs);

}  // namespace anneal
