#pragma once
// The compiler: a ModelSpec becomes a Boost.Graph DAG of op nodes, sorted topologically, with
// shapes inferred, a needs-gradient pass, and every buffer planned up front (one parameter
// arena, one parameter-gradient arena, activation and activation-gradient arenas sized for the
// largest batch). Nothing is allocated after this.

#include <boost/graph/adjacency_list.hpp>

#include <cstdint>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "anneal/op.hpp"
#include "anneal/spec.hpp"

namespace anneal {

struct VertexInfo {
  std::string name;
  std::string op;
};
using Graph = boost::adjacency_list<boost::vecS, boost::vecS, boost::bidirectionalS, VertexInfo>;

struct ParamSlot {
  std::string name;
  Shape shape;
  int64_t offset = 0;  // into the parameter arena
};

struct CompiledNode {
  std::string name;
  std::string op_type;  // "input" for the model input
  SourceLocation location;
  std::unique_ptr<Op> op;  // null for the input node
  std::vector<int> inputs;  // node indices
  Shape shape;              // per sample
  bool requires_grad = false;
  int64_t activation_offset = 0;
  int64_t gradient_offset = -1;  // -1: no gradient buffer
  std::vector<ParamSlot> params;
  int64_t parameter_count() const;
};

class CompiledGraph {
 public:
  static constexpr int kInputNode = 0;

  const std::vector<CompiledNode>& nodes() const { return nodes_; }
  std::vector<CompiledNode>& nodes() { return nodes_; }
  const std::vector<int>& order() const { return order_; }  // topological, input first
  int output() const { return output_; }
  int64_t max_batch() const { return max_batch_; }
  const Graph& graph() const { return graph_; }

  std::vector<float>& params() { return params_; }
  const std::vector<float>& params() const { return params_; }
  std::vector<float>& param_grads() { return param_grads_; }
  std::vector<float>& activations() { return activations_; }
  const std::vector<float>& activations() const { return activations_; }
  std::vector<float>& activation_grads() { return activation_grads_; }
  const std::vector<float>& activation_grads() const { return activation_grads_; }
  int64_t planned_bytes() const;

  // Nodes whose gradient buffer must be cleared before backward step k (step k runs
  // order()[size - 1 - k]); buffers are shared where lifetimes do not overlap.
  const std::vector<std::vector<int>>& zero_before_step() const { return zero_before_step_; }
  // Bytes the gradient buffers would take without sharing, for reports.
  int64_t unshared_gradient_bytes() const;
  // Forward-only runs (predict) use a second activation arena in which activations whose lives
  // do not overlap share memory; offsets per node into it.
  const std::vector<int64_t>& inference_offsets() const { return inference_offsets_; }
  int64_t inference_floats() const { return inference_floats_; }
  std::vector<float>& inference_activations() { return inference_activations_; }

  const Shape& input_shape() const { return nodes_[kInputNode].shape; }
  const Shape& output_shape() const { return nodes_[static_cast<size_t>(output_)].shape; }

 private:
  friend CompiledGraph compile(const ModelSpec&, int64_t, uint64_t);
  friend int64_t plan_gradient_buffers(CompiledGraph&, int64_t);
  friend int64_t plan_inference_buffers(CompiledGraph&, int64_t);
  std::vector<std::vector<int>> zero_before_step_;
  std::vector<int64_t> inference_offsets_;
  int64_t inference_floats_ = 0;
  std::vector<float> inference_activations_;
  std::vector<CompiledNode> nodes_;
  std::vector<int> order_;
  int output_ = 0;
  int64_t max_batch_ = 0;
  Graph graph_;
  std::vector<float> params_, param_grads_, activations_, activation_grads_;
};

// Assigns gradient buffers by liveness; returns the gradient arena's size in floats.
int64_t plan_gradient_buffers(CompiledGraph& graph, int64_t max_batch);
// Assigns forward-only activation buffers by liveness; returns that arena's size in floats.
int64_t plan_inference_buffers(CompiledGraph& graph, int64_t max_batch);

// Throws SpecError listing every problem found (unknown ops, undefined inputs, cycles, shapes).
CompiledGraph compile(const ModelSpec& spec, int64_t max_batch, uint64_t seed);

// Graphviz text of the graph, labelled with op types and shapes.
void write_dot(const CompiledGraph& graph, std::ostream& out);

}  // namespace anneal
