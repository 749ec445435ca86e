#include "anneal/executor.hpp"

#include <cstring>

#include "anneal/clock.hpp"
#include "anneal/errors.hpp"
#include "anneal/parallel.hpp"

namespace anneal {

namespace {
std::vector<float> arena(int64_t floats) { return std::vector<float>(static_cast<size_t>(floats), 0.0f); }
}  // namespace

Executor::Executor(const CompiledGraph& graph, Weights& weights, uint64_t seed, ExecutorMode mode)
    : graph_(graph), mode_(mode), dropout_rng_(seed, static_cast<uint64_t>(RngStream::kDropout)), gemm_(&graph.gemm_plan()) {
  const auto& sizes = graph.sizes();
  if (static_cast<int64_t>(weights.params.size()) != sizes.params ||
      static_cast<int64_t>(weights.state.size()) != sizes.state)
    throw RuntimeFailure("weights do not match the compiled graph");
  const bool training = mode == ExecutorMode::kTraining;
  activations_ = arena(training ? sizes.activations : sizes.inference);
  if (training) {
    activation_grads_ = arena(sizes.gradients);
    param_grads_ = arena(sizes.trainable);
  }
  saved_ = arena(sizes.saved);
  scratch_ = arena(sizes.scratch);
  // In mixed_bfloat16 the products of a pass reuse converted copies of the parameters, which
  // change only between passes, of the activations, which change only when a node writes its
  // output (forward() says so before each node runs, since an inference arena gives a node the
  // place of values that are dead by then), and of the saved workspaces, which only their own
  // node's forward writes, once per pass, for its backward to read (a convolution's columns feed
  // a product in each).
  gemm_.keep_converted(weights.params.data(), weights.params.data() + weights.params.size());
  gemm_.keep_converted(activations_.data(), activations_.data() + activations_.size());
  gemm_.keep_converted(saved_.data(), saved_.data() + saved_.size());

  const auto& nodes = graph.nodes();
  auto activation = [&](size_t i) {
    return activations_.data() + (training ? nodes[i].activation_offset : nodes[i].inference_offset);
  };
  auto gradient = [&](size_t i) -> float* {
    return training && nodes[i].gradient_offset >= 0 ? activation_grads_.data() + nodes[i].gradient_offset : nullptr;
  };
  views_.resize(nodes.size());
  for (size_t i = 0; i < nodes.size(); ++i) {
    const auto& node = nodes[i];
    auto& v = views_[i];
    v.output = {activation(i), node.shape};
    v.output_grad = {gradient(i), node.shape};
    for (int in : node.inputs) {
      const auto source = static_cast<size_t>(in);
      v.inputs.emplace_back(activation(source), nodes[source].shape);
      v.input_grads.push_back({gradient(source), nodes[source].shape});
    }
    for (const auto& p : node.params) {
      v.params.push_back({weights.params.data() + p.offset, p.shape});
      const bool has_grad = training && p.training.trainable;
      v.param_grads.push_back({has_grad ? param_grads_.data() + p.offset : nullptr, p.shape});
    }
    for (const auto& s : node.state) v.state.push_back({weights.state.data() + s.offset, s.shape});
    v.saved = {saved_.data() + node.saved_offset, static_cast<size_t>(node.workspace.saved)};
  }
  input_ = views_[CompiledGraph::kInputNode].output.data;
  output_ = views_[static_cast<size_t>(graph.output())].output.data;
  output_grad_ = views_[static_cast<size_t>(graph.output())].output_grad.data;
}

OpContext Executor::context(size_t node, int64_t batch, bool training) {
  const auto& v = views_[node];
  OpContext ctx;
  ctx.batch = batch;
  ctx.training = training;
  ctx.inputs = v.inputs;
  ctx.output = v.output;
  ctx.params = v.params;
  ctx.state = v.state;
  ctx.saved = v.saved;
  ctx.scratch = scratch_;
  ctx.output_grad = v.output_grad;
  ctx.input_grads = v.input_grads;
  ctx.param_grads = v.param_grads;
  ctx.rng = &dropout_rng_;
  ctx.gemm = &gemm_;
  ctx.threads = gemm_.pass_threads();
  ctx.output_feeds_products = graph_.nodes()[node].output_feeds_products;
  return ctx;
}

void Executor::set_profiling(bool on) {
  profiling_ = on;
  times_.forward.assign(graph_.nodes().size(), 0.0);
  times_.backward.assign(graph_.nodes().size(), 0.0);
}

void Executor::forward(int64_t batch, bool training) {
  if (training && mode_ == ExecutorMode::kInference) throw RuntimeFailure("a training pass on an inference executor");
  gemm_.new_pass();
  const auto& nodes = graph_.nodes();
  for (int index : graph_.order()) {
    const auto& node = nodes[static_cast<size_t>(index)];
    if (!node.op) continue;
    const double start = profiling_ ? wall_seconds() : 0;
    const auto& output = views_[static_cast<size_t>(index)].output;
    gemm_.overwritten(output.data, static_cast<size_t>(batch * output.sample_size()));
    node.op->forward(context(static_cast<size_t>(index), batch, training));
    gemm_.end_op();
    if (profiling_) times_.forward[static_cast<size_t>(index)] += wall_seconds() - start;
  }
}

void Executor::backward(int64_t batch) {
  if (mode_ == ExecutorMode::kInference) throw RuntimeFailure("backward() on an inference executor");
  const auto& nodes = graph_.nodes();
  // Activation gradients accumulate (a value may feed several nodes), so each buffer is cleared
  // just before the first node that accumulates into it runs; buffers are shared by nodes whose
  // gradients are never live at once. Parameter gradients are written by their one owner.
  const auto& order = graph_.order();
  const auto& zero = graph_.zero_before_step();
  // Large buffers are cleared on the passes' threads (a convolution's input gradient is megabytes).
  const int threads = gemm_.pass_threads();
  size_t step = 0;
  for (auto it = order.rbegin(); it != order.rend(); ++it, ++step) {
    for (int index : zero[step]) {
      const auto& cleared = nodes[static_cast<size_t>(index)];
      float* data = activation_grads_.data() + cleared.gradient_offset;
      const int64_t n = batch * cleared.shape.numel();
      parallel_for(split_threads(threads, n), n, [data](int64_t begin, int64_t end) {
        std::memset(data + begin, 0, sizeof(float) * static_cast<size_t>(end - begin));
      });
    }
    const auto& node = nodes[static_cast<size_t>(*it)];
    if (!node.op || !node.requires_grad) continue;
    const double start = profiling_ ? wall_seconds() : 0;
    node.op->backward(context(static_cast<size_t>(*it), batch, true));
    gemm_.end_op();
    if (profiling_) times_.backward[static_cast<size_t>(*it)] += wall_seconds() - start;
  }
}

}  // namespace anneal
