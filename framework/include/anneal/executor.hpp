#pragma once
// Runs a compiled graph: forward in topological order, backward in reverse. An executor owns
// every buffer it writes (activations, activation gradients, parameter gradients, workspaces),
// allocated once here; it reads the plan and the weights it is given. A step touches only these
// buffers, so several executors over one plan and one Weights (training, and evaluation or
// prediction threads) never share memory they write, apart from the training executor's
// updates of the non-trainable state.

#include <cstdint>
#include <span>
#include <vector>

#include "anneal/graph.hpp"
#include "anneal/rng.hpp"

namespace anneal {

enum class ExecutorMode { kTraining, kInference };

class Executor {
 public:
  // kInference: forward only, on activations shared by liveness (backward() is not allowed).
  Executor(const CompiledGraph& graph, Weights& weights, uint64_t seed, ExecutorMode mode = ExecutorMode::kTraining);
  Executor(const Executor&) = delete;
  Executor& operator=(const Executor&) = delete;

  float* input() { return input_; }                 // [max_batch, input size]
  const float* output() const { return output_; }   // [batch, output size]
  float* output_grad() { return output_grad_; }     // dLoss/dOutput, written by the loss

  void forward(int64_t batch, bool training);
  // Clears the activation gradients that backward accumulates into (not output_grad), just
  // before their first use, and writes every trainable parameter's gradient.
  void backward(int64_t batch);

  // Gradients of the trainable parameters (Weights::params[0, trainable)), same offsets.
  std::span<float> param_grads() { return param_grads_; }
  Rng& dropout_rng() { return dropout_rng_; }

  // Per-node wall time (seconds, forward and backward apart), accumulated while profiling is on;
  // off by default (it reads the clock twice per node). For benchmarks and `anneal check`-style
  // reports.
  struct NodeTimes {
    std::vector<double> forward, backward;
  };
  void set_profiling(bool on);
  const NodeTimes& node_times() const { return times_; }
  // The runner of this executor's matrix products (what mixed_bfloat16 converted, for reports).
  const GemmRunner& gemm_runner() const { return gemm_; }
  // Side by side turned on and off between updates, to measure it within one process
  // (GemmRunner::set_side_by_side; anneal_bench --side-by-side alternate).
  void set_side_by_side(bool on) { gemm_.set_side_by_side(on); }

 private:
  struct NodeViews {
    std::vector<ConstTensorView> inputs;
    std::vector<TensorView> input_grads;
    std::vector<TensorView> params;
    std::vector<TensorView> param_grads;
    std::vector<TensorView> state;
    std::span<float> saved;
    TensorView output;
    TensorView output_grad;
  };
  OpContext context(size_t node, int64_t batch, bool training);

  const CompiledGraph& graph_;
  ExecutorMode mode_;
  std::vector<float> activations_, activation_grads_, param_grads_, saved_, scratch_;
  std::vector<NodeViews> views_;
  float* input_ = nullptr;
  float* output_ = nullptr;
  float* output_grad_ = nullptr;
  Rng dropout_rng_;
  GemmRunner gemm_;
  bool profiling_ = false;
  NodeTimes times_;
};

}  // namespace anneal
