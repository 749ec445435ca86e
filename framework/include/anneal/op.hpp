#pragma once
// The operator interface. An op is built from its AttrMap, asked for shapes and parameters once
// at compile time, then run many times on buffers the compiler planned.
//
// backward() ACCUMULATES into input gradients (beta = 1), so a value that feeds several nodes
// needs no split node, and WRITES its own parameters' gradients (a parameter belongs to one node,
// so nothing needs clearing first). A gradient slot with data == nullptr is not needed.

#include <memory>
#include <span>
#include <string>
#include <vector>

#include "anneal/attr_map.hpp"
#include "anneal/registry.hpp"
#include "anneal/tensor.hpp"

namespace anneal {

class Rng;

struct ParamSpec {
  std::string name;    // "kernel", "bias"
  Shape shape;
  AttrMap initializer;  // the initializer's spec (a name or a mapping), resolved by the compiler
  std::string default_initializer;
};

struct OpContext {
  int64_t batch = 0;
  bool training = false;
  std::span<const ConstTensorView> inputs;
  TensorView output;
  std::span<const TensorView> params;
  // Backward only:
  ConstTensorView output_grad;
  std::span<const TensorView> input_grads;  // data == nullptr: not needed
  std::span<const TensorView> param_grads;
  Rng* rng = nullptr;  // for stochastic ops (dropout)
};

class Op {
 public:
  virtual ~Op() = default;

  // Number of inputs; kVariadic for "two or more".
  static constexpr int kVariadic = -1;
  virtual int arity() const { return 1; }

  // Per-sample output shape; throw ShapeMismatch with a message (the compiler adds the place).
  virtual Shape infer_shape(const std::vector<Shape>& inputs) const = 0;
  virtual std::vector<ParamSpec> param_specs(const std::vector<Shape>& /*inputs*/) { return {}; }
  // Called once after shapes are known: size any workspace for up to max_batch rows here.
  virtual void prepare(const std::vector<Shape>& /*inputs*/, int64_t /*max_batch*/) {}

  virtual void forward(const OpContext& ctx) = 0;
  virtual void backward(const OpContext& ctx) = 0;
};

// Thrown by infer_shape; carries only the message.
class ShapeMismatch : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

using OpRegistry = Registry<Op, AttrMap&>;

}  // namespace anneal
