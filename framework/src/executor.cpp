#include "anneal/executor.hpp"

#include <cstring>

#include "anneal/errors.hpp"

namespace anneal {

Executor::Executor(CompiledGraph& graph, uint64_t seed, ExecutorMode mode)
    : graph_(graph), mode_(mode), dropout_rng_(seed, static_cast<uint64_t>(RngStream::kDropout)) {
  auto& nodes = graph_.nodes();
  const bool inference = mode == ExecutorMode::kInference;
  if (inference) graph_.inference_activations().assign(static_cast<size_t>(graph_.inference_floats()), 0.0f);
  float* activations = inference ? graph_.inference_activations().data() : graph_.activations().data();
  auto activation_offset = [&](size_t i) {
    return inference ? graph_.inference_offsets()[i] : nodes[i].activation_offset;
  };
  float* gradients = graph_.activation_grads().data();
  float* params = graph_.params().data();
  float* param_grads = graph_.param_grads().data();
  views_.resize(nodes.size());
  for (size_t i = 0; i < nodes.size(); ++i) {
    const auto& node = nodes[i];
    auto& v = views_[i];
    v.output = {activations + activation_offset(i), node.shape};
    if (node.gradient_offset >= 0) v.output_grad = {gradients + node.gradient_offset, node.shape};
    for (int in : node.inputs) {
      const auto& source = nodes[static_cast<size_t>(in)];
      v.inputs.emplace_back(activations + activation_offset(static_cast<size_t>(in)), source.shape);
      TensorView grad{nullptr, source.shape};
      if (source.gradient_offset >= 0) grad.data = gradients + source.gradient_offset;
      v.input_grads.push_back(grad);
    }
    for (const auto& p : node.params) {
      v.params.push_back({params + p.offset, p.shape});
      v.param_grads.push_back({param_grads + p.offset, p.shape});
    }
  }
  input_ = views_[CompiledGraph::kInputNode].output.data;
  output_ = views_[static_cast<size_t>(graph_.output())].output.data;
  output_grad_ = views_[static_cast<size_t>(graph_.output())].output_grad.data;
}

void Executor::forward(int64_t batch, bool training) {
  auto& nodes = graph_.nodes();
  for (int index : graph_.order()) {
    auto& node = nodes[static_cast<size_t>(index)];
    if (!node.op) continue;
    const auto& v = views_[static_cast<size_t>(index)];
    OpContext ctx;
    ctx.batch = batch;
    ctx.training = training;
    ctx.inputs = v.inputs;
    ctx.output = v.output;
    ctx.params = v.params;
    ctx.rng = &dropout_rng_;
    node.op->forward(ctx);
  }
}

void Executor::backward(int64_t batch) {
  if (mode_ == ExecutorMode::kInference) throw RuntimeFailure("backward() on an inference executor");
  auto& nodes = graph_.nodes();
  // Activation gradients accumulate (a value may feed several nodes), so each buffer is cleared
  // just before the first node that accumulates into it runs; buffers are shared by nodes whose
  // gradients are never live at once. Parameter gradients are written by their one owner.
  const auto& order = graph_.order();
  const auto& zero = graph_.zero_before_step();
  size_t step = 0;
  for (auto it = order.rbegin(); it != order.rend(); ++it, ++step) {
    for (int index : zero[step]) {
      const auto& cleared = nodes[static_cast<size_t>(index)];
      std::memset(graph_.activation_grads().data() + cleared.gradient_offset, 0,
                  sizeof(float) * static_cast<size_t>(batch * cleared.shape.numel()));
    }
    auto& node = nodes[static_cast<size_t>(*it)];
    if (!node.op || !node.requires_grad) continue;
    const auto& v = views_[static_cast<size_t>(*it)];
    OpContext ctx;
    ctx.batch = batch;
    ctx.training = true;
    ctx.inputs = v.inputs;
    ctx.output = v.output;
    ctx.params = v.params;
    ctx.output_grad = v.output_grad;
    ctx.input_grads = v.input_grads;
    ctx.param_grads = v.param_grads;
    ctx.rng = &dropout_rng_;
    node.op->backward(ctx);
  }
}

}  // namespace anneal
