#pragma once
// The compiler: a ModelSpec becomes a Boost.Graph DAG of op nodes, sorted topologically, with
// shapes inferred, a needs-gradient pass, and every buffer planned up front. The result, a
// CompiledGraph, is an immutable plan: it holds no tensors. Weights (parameters and
// non-trainable state) live in a Weights object; activations, gradients and workspaces belong
// to each Executor that runs the plan, so several executors over one plan never share memory.
//
// compile() runs the passes declared below in order; each is a function with one job.

#include <boost/graph/adjacency_list.hpp>

#include <cstdint>
#include <map>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "anneal/gemm.hpp"
#include "anneal/op.hpp"
#include "anneal/spec.hpp"

namespace anneal {

struct VertexInfo {
  std::string name;
  std::string op;
};
using Graph = boost::adjacency_list<boost::vecS, boost::vecS, boost::bidirectionalS, VertexInfo>;

// Keras' kernel_regularizer: l1 * sum |w| + l2 * sum w^2 is added to the training loss.
struct Regularizer {
  double l1 = 0, l2 = 0;
  bool active() const { return l1 != 0 || l2 != 0; }
};

// Per-node training options that apply to any op with parameters (read by the compiler, not
// by the op): trainable, Caffe's lr_mult / decay_mult, and <param>_regularizer.
struct ParamTraining {
  bool trainable = true;
  double lr_mult = 1, decay_mult = 1;
  Regularizer regularizer;
};

// What a node's spec says about training its parameters, as read by the lower pass: a value
// for every parameter, or per parameter name (`lr_mult: {kernel: 1, bias: 2}`).
struct NodeTraining {
  bool trainable = true;
  double lr_mult = 1, decay_mult = 1;
  std::map<std::string, double> lr_mult_of, decay_mult_of;
  std::map<std::string, Regularizer> regularizer_of;
  // Every parameter name the spec mentions, where: each must be one of the op's parameters.
  std::vector<std::pair<std::string, SourceLocation>> mentioned;
  ParamTraining for_param(const std::string& name) const;
};

struct ParamSlot {
  std::string name;
  Shape shape;
  int64_t offset = 0;  // into Weights::params; trainable parameters come first, so their
                       // gradients use the same offsets in the gradient arena
  ParamTraining training;
  AttrMap initializer;
  std::string default_initializer;
  Fans fans;
  int64_t size() const { return shape.numel(); }
};

struct StateSlot {
  std::string name;
  Shape shape;
  int64_t offset = 0;  // into Weights::state
  float initial = 0;
};

struct CompiledNode {
  std::string name;
  std::string op_type;  // "input" for the model input
  SourceLocation location;
  std::unique_ptr<Op> op;   // null for the input node; const once compiled
  std::vector<int> inputs;  // node indices
  NodeTraining training;
  Shape shape;              // per sample
  bool requires_grad = false;
  std::vector<ParamSlot> params;
  std::vector<StateSlot> state;
  Workspace workspace;          // at the plan's max batch
  Flops flops;                  // per sample
  int64_t activation_offset = 0;   // training arena (every activation lives until backward)
  int64_t inference_offset = 0;    // forward-only arena (shared by liveness)
  int64_t gradient_offset = -1;    // -1: no gradient buffer
  bool gradient_written = false;   // its one reader's backward writes the gradient (Op::write_input_gradient)
  int64_t saved_offset = 0;        // saved-workspace arena
  bool output_feeds_products = false;  // a consumer's matrix products read the output as it is
  int64_t parameter_count() const;
};

// The sizes of every arena, in floats.
struct ArenaSizes {
  int64_t params = 0;             // trainable, then frozen
  int64_t trainable = 0;          // the leading part of params that optimizers update
  int64_t state = 0;              // non-trainable state
  int64_t activations = 0;        // training
  int64_t inference = 0;          // forward only
  int64_t gradients = 0;          // activation gradients, shared by liveness
  int64_t unshared_gradients = 0; // what they would take without sharing (for reports)
  int64_t saved = 0;              // saved workspaces
  int64_t scratch = 0;            // one scratch workspace, the largest any node asks for
};

class CompiledGraph {
 public:
  static constexpr int kInputNode = 0;

  const std::vector<CompiledNode>& nodes() const { return nodes_; }
  const std::vector<int>& order() const { return order_; }  // topological, input first
  int output() const { return output_; }
  int64_t max_batch() const { return max_batch_; }
  const Graph& graph() const { return graph_; }
  const ArenaSizes& sizes() const { return sizes_; }
  // The library chosen for each matrix product the ops declared.
  const GemmPlan& gemm_plan() const { return gemm_plan_; }
  // Chooses those libraries (compile() leaves every product on OpenBLAS). Timing runs the
  // products on buffers of their size, so callers check the plan's memory first. Only before
  // any executor runs the plan.
  void choose_gemms(const GemmOptions& options) { gemm_plan_.choose(options); }
  // Nodes whose gradient buffer must be cleared before backward step k (step k runs
  // order()[size - 1 - k]); buffers are shared where lifetimes do not overlap.
  const std::vector<std::vector<int>>& zero_before_step() const { return zero_before_step_; }
  bool has_regularizers() const;

  const Shape& input_shape() const { return nodes_[kInputNode].shape; }
  const Shape& output_shape() const { return nodes_[static_cast<size_t>(output_)].shape; }

  // Bytes an executor allocates (training mode) besides the weights, its matrix-product runner's
  // buffers included once the products are chosen (choose_gemms).
  int64_t executor_bytes(bool training) const;
  // The part of it that the matrix-product runner allocates (0 until the products are chosen).
  int64_t runner_bytes(bool training) const;

  // The passes fill the plan through this; nothing else writes it.
  friend struct GraphBuilder;

 private:
  std::vector<CompiledNode> nodes_;
  std::vector<int> order_;
  int output_ = 0;
  int64_t max_batch_ = 0;
  Graph graph_;
  ArenaSizes sizes_;
  std::vector<std::vector<int>> zero_before_step_;
  GemmPlan gemm_plan_;
};

// The model's weights: trainable and frozen parameters, and non-trainable state. Checkpoints
// save both; optimizers see params[0, trainable) only.
struct Weights {
  std::vector<float> params;
  std::vector<float> state;
};

// Throws SpecError listing every problem found (unknown ops, undefined inputs, cycles, shapes).
CompiledGraph compile(const ModelSpec& spec, int64_t max_batch);
// Fresh weights for a plan, drawn in topological order from one seeded stream.
Weights initialize_weights(const CompiledGraph& graph, uint64_t seed);
// Sum of every parameter's regularization term; adds its gradient into `grads` when given.
double regularization(const CompiledGraph& graph, std::span<const float> params, std::span<float> grads = {});

// The compiler's passes, in the order compile() runs them. Each reports what it finds wrong
// through the ErrorList (every problem of a pass at once) or throws SpecError.
class ErrorList {
 public:
  void add(const SourceLocation& where, const std::string& what);
  void add_formatted(const std::string& message) { messages_.push_back(message); }
  bool empty() const { return messages_.empty(); }
  void throw_if_any() const;

 private:
  std::vector<std::string> messages_;
};

struct GraphBuilder {
  CompiledGraph& g;
  std::vector<CompiledNode>& nodes() { return g.nodes_; }
  std::vector<int>& order() { return g.order_; }
  int& output() { return g.output_; }
  int64_t& max_batch() { return g.max_batch_; }
  Graph& graph() { return g.graph_; }
  ArenaSizes& sizes() { return g.sizes_; }
  std::vector<std::vector<int>>& zero_before_step() { return g.zero_before_step_; }
  GemmPlan& gemm_plan() { return g.gemm_plan_; }
};

namespace passes {
// 1. Nodes from the spec: ops built from their attributes, per-node training options read,
//    inputs resolved by name, arity checked, the Boost.Graph topology built.
void lower(const ModelSpec& spec, GraphBuilder b, ErrorList& errors);
// 2. Topological order (a cycle is an error naming it) and the output; nodes that do not lead
//    to the output are errors.
void order(const ModelSpec& spec, GraphBuilder b, ErrorList& errors);
// 3. Shapes, parameter and state specs, in topological order; each op's prepare().
//    Parameter names that the node's training options mention must exist.
void infer_shapes(GraphBuilder b, ErrorList& errors);
// 4. A node needs an output gradient when it or anything upstream has trainable parameters.
void mark_gradients(GraphBuilder b);
// 5. Offsets of parameters (trainable first), state, activations, saved workspaces and scratch.
void plan_weights(GraphBuilder b);
void plan_activations(GraphBuilder b);
void plan_workspaces(GraphBuilder b);
// 6. Gradient buffers and forward-only activations shared by liveness.
void plan_gradient_buffers(GraphBuilder b);
void plan_inference_buffers(GraphBuilder b);
// 7. Every initializer resolved (an unknown name is an error at the attribute).
void check_initializers(GraphBuilder b, ErrorList& errors);
// 8. The matrix products every op declares, each on OpenBLAS until CompiledGraph::choose_gemms.
void plan_gemms(GraphBuilder b);
}  // namespace passes

// Graphviz text of the graph, labelled with op types and shapes.
void write_dot(const CompiledGraph& graph, std::ostream& out);

}  // namespace anneal
