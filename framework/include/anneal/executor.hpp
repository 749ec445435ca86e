#pragma once
// Runs a compiled graph: forward in topological order, backward in reverse. Every view is built
// here once; a step touches only planned buffers.

#include <cstdint>
#include <vector>

#include "anneal/graph.hpp"
#include "anneal/rng.hpp"

namespace anneal {

enum class ExecutorMode { kTraining, kInference };

class Executor {
 public:
  // kInference: forward only, on the shared inference arena (backward() is not allowed).
  Executor(CompiledGraph& graph, uint64_t seed, ExecutorMode mode = ExecutorMode::kTraining);

  float* input() { return input_; }                 // [max_batch, input size]
  const float* output() const { return output_; }   // [batch, output size]
  float* output_grad() { return output_grad_; }     // dLoss/dOutput, written by the loss

  void forward(int64_t batch, bool training);
  // Zeroes the gradients that backward accumulates into (not output_grad), then runs backward.
  void backward(int64_t batch);

  Rng& dropout_rng() { return dropout_rng_; }

 private:
  struct NodeViews {
    std::vector<ConstTensorView> inputs;
    std::vector<TensorView> input_grads;
    std::vector<TensorView> params;
    std::vector<TensorView> param_grads;
    TensorView output;
    TensorView output_grad;
  };
  CompiledGraph& graph_;
  ExecutorMode mode_;
  std::vector<NodeViews> views_;
  float* input_ = nullptr;
  float* output_ = nullptr;
  float* output_grad_ = nullptr;
  Rng dropout_rng_;
};

}  // namespace anneal
