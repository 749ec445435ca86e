#include "anneal/graph.hpp"

#include <boost/graph/graphviz.hpp>
#include <boost/graph/topological_sort.hpp>

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <map>

#include "anneal/initializer.hpp"
#include "anneal/rng.hpp"

namespace anneal {

int64_t CompiledNode::parameter_count() const {
  int64_t n = 0;
  for (const auto& p : params) n += p.size();
  return n;
}

ParamTraining NodeTraining::for_param(const std::string& name) const {
  ParamTraining t;
  t.trainable = trainable;
  auto lr = lr_mult_of.find(name);
  t.lr_mult = lr == lr_mult_of.end() ? lr_mult : lr->second;
  auto decay = decay_mult_of.find(name);
  t.decay_mult = decay == decay_mult_of.end() ? decay_mult : decay->second;
  auto reg = regularizer_of.find(name);
  if (reg != regularizer_of.end()) t.regularizer = reg->second;
  return t;
}

bool CompiledGraph::has_regularizers() const {
  for (const auto& node : nodes_)
    for (const auto& p : node.params)
      if (p.training.regularizer.active()) return true;
  return false;
}

int64_t CompiledGraph::executor_bytes(bool training) const {
  const auto& s = sizes_;
  int64_t floats = checked_add(s.saved, s.scratch);
  floats = training ? checked_add(floats, checked_add(checked_add(s.activations, s.gradients), s.trainable))
                    : checked_add(floats, s.inference);
  return checked_add(checked_mul(floats, static_cast<int64_t>(sizeof(float))), runner_bytes(training));
}

int64_t CompiledGraph::runner_bytes(bool training) const {
  // oneDNN's scratchpad, mixed_bfloat16's converted operands and the copies the runner keeps (of
  // the weights, the activations and the saved workspaces).
  const auto& s = sizes_;
  return gemm_plan_.runner_bytes(checked_add(checked_add(s.params, s.saved), training ? s.activations : s.inference));
}

void ErrorList::add(const SourceLocation& where, const std::string& what) { messages_.push_back(format_error(where, what)); }

void ErrorList::throw_if_any() const {
  if (messages_.empty()) return;
  std::string joined;
  for (size_t i = 0; i < messages_.size(); ++i) joined += (i ? "\n" : "") + messages_[i];
  throw SpecError(joined);
}

double regularization(const CompiledGraph& graph, std::span<const float> params, std::span<float> grads) {
  double total = 0;
  for (const auto& node : graph.nodes())
    for (const auto& p : node.params) {
      const Regularizer& r = p.training.regularizer;
      if (!r.active()) continue;
      const float* w = params.data() + p.offset;
      double l1 = 0, l2 = 0;
      for (int64_t i = 0; i < p.size(); ++i) {
        l1 += std::abs(w[i]);
        l2 += static_cast<double>(w[i]) * w[i];
      }
      total += r.l1 * l1 + r.l2 * l2;
      // d/dw (l1 |w| + l2 w^2) = l1 sign(w) + 2 l2 w; a frozen parameter has no gradient slot.
      if (grads.empty() || !p.training.trainable) continue;
      float* g = grads.data() + p.offset;
      const float a = static_cast<float>(r.l1), b = static_cast<float>(2 * r.l2);
      for (int64_t i = 0; i < p.size(); ++i) g[i] += a * static_cast<float>((w[i] > 0) - (w[i] < 0)) + b * w[i];
    }
  return total;
}

namespace {

// Finds one cycle by depth-first search and returns it as node indices, first == last.
std::vector<int> find_cycle(const Graph& g) {
  const int n = static_cast<int>(boost::num_vertices(g));
  std::vector<int> color(static_cast<size_t>(n), 0), stack;
  std::vector<int> cycle;
  std::function<bool(int)> visit = [&](int u) {
    color[static_cast<size_t>(u)] = 1;
    stack.push_back(u);
    for (auto [it, end] = boost::adjacent_vertices(static_cast<size_t>(u), g); it != end; ++it) {
      const int v = static_cast<int>(*it);
      if (color[static_cast<size_t>(v)] == 1) {
        auto from = std::find(stack.begin(), stack.end(), v);
        cycle.assign(from, stack.end());
        cycle.push_back(v);
        return true;
      }
      if (color[static_cast<size_t>(v)] == 0 && visit(v)) return true;
    }
    stack.pop_back();
    color[static_cast<size_t>(u)] = 2;
    return false;
  };
  for (int u = 0; u < n; ++u)
    if (color[static_cast<size_t>(u)] == 0 && visit(u)) break;
  return cycle;
}

std::unique_ptr<Initializer> make_initializer(const ParamSlot& slot) {
  AttrMap attrs = slot.initializer;
  if (attrs.node().size() == 0) {
    YAML::Node map(YAML::NodeType::Map);
    map["type"] = slot.default_initializer;
    attrs = AttrMap(map, attrs.origin(), attrs.path(), attrs.what());
  }
  return create_from<InitializerRegistry>(attrs, "initializer");
}

// `l2`, or {type: l1_l2, l1: 1e-5, l2: 1e-4}; a bare name takes Keras' default factor 0.01.
Regularizer read_regularizer(AttrMap& attrs, const std::string& key) {
  AttrMap spec = nested_typed_attrs(attrs, key);
  const auto type = spec.get<std::string>("type");
  Regularizer r;
  if (type == "l1" || type == "l1_l2") r.l1 = spec.get<double>("l1", 0.01);
  if (type == "l2" || type == "l1_l2") r.l2 = spec.get<double>("l2", 0.01);
  if (type != "l1" && type != "l2" && type != "l1_l2")
    spec.fail("type", "is '" + type + "', expected l1, l2 or l1_l2");
  spec.require(r.l1 >= 0 && std::isfinite(r.l1), "l1", "must be a finite number >= 0");
  spec.require(r.l2 >= 0 && std::isfinite(r.l2), "l2", "must be a finite number >= 0");
  spec.finish();
  return r;
}

// A multiplier for every parameter (`lr_mult: 2`) or per parameter (`lr_mult: {bias: 2}`).
void read_mult(AttrMap& attrs, const std::string& key, double& all, std::map<std::string, double>& per,
               std::vector<std::pair<std::string, SourceLocation>>& mentioned) {
  if (!attrs.has(key)) return;
  if (!attrs.raw(key).IsMap()) {
    all = attrs.get<double>(key);
    attrs.require(all >= 0 && std::isfinite(all), key, "must be a finite number >= 0");
    return;
  }
  AttrMap map = attrs.child(key);
  for (const auto& item : map.node()) {
    const auto name = item.first.as<std::string>();
    const double value = map.get<double>(name);
    map.require(value >= 0 && std::isfinite(value), name, "must be a finite number >= 0");
    per[name] = value;
    mentioned.emplace_back(name, map.key_location(name));
  }
}

NodeTraining read_training(AttrMap& attrs) {
  NodeTraining t;
  t.trainable = attrs.get<bool>("trainable", true);
  read_mult(attrs, "lr_mult", t.lr_mult, t.lr_mult_of, t.mentioned);
  read_mult(attrs, "decay_mult", t.decay_mult, t.decay_mult_of, t.mentioned);
  const std::string suffix = "_regularizer";
  if (attrs.node().IsMap())
    for (const auto& item : attrs.node()) {
      const auto key = item.first.as<std::string>();
      if (key.size() <= suffix.size() || key.compare(key.size() - suffix.size(), suffix.size(), suffix) != 0) continue;
      const auto param = key.substr(0, key.size() - suffix.size());
      t.regularizer_of[param] = read_regularizer(attrs, key);
      t.mentioned.emplace_back(param, attrs.key_location(key));
    }
  return t;
}

// A buffer's life: live from step `first` through step `last` (inclusive).
struct Interval {
  int node, first, last;
  int64_t size;
};

// Greedy interval sharing: in order of start, take the smallest free block that is large enough
// (free: its holder's last step is before this start), else grow the arena. Returns the arena
// size; offsets[node] receives each buffer's place.
int64_t share_buffers(std::vector<Interval> intervals, std::vector<int64_t>& offsets) {
  std::sort(intervals.begin(), intervals.end(), [](const Interval& a, const Interval& b) { return a.first < b.first; });
  struct Block {
    int64_t offset, size;
    int free_after;
  };
  std::vector<Block> blocks;
  int64_t total = 0;
  for (const auto& iv : intervals) {
    Block* best = nullptr;
    for (auto& b : blocks)
      if (b.free_after < iv.first && b.size >= iv.size && (!best || b.size < best->size)) best = &b;
    if (!best) {
      blocks.push_back({total, iv.size, std::numeric_limits<int>::min()});
      total = checked_add(total, iv.size);
      best = &blocks.back();
    }
    best->free_after = iv.last;
    offsets[static_cast<size_t>(iv.node)] = best->offset;
  }
  return total;
}

// The step at which each node runs: forward (k-th in order) or backward (reverse).
std::vector<int> steps_of(const std::vector<int>& order, size_t nodes, bool backward) {
  const int steps = static_cast<int>(order.size());
  std::vector<int> step_of(nodes);
  for (int k = 0; k < steps; ++k)
    step_of[static_cast<size_t>(order[static_cast<size_t>(backward ? steps - 1 - k : k)])] = k;
  return step_of;
}

// A spec node made into a graph node: its op created from the registry with the node's
// attributes (an unknown op or bad attributes are recorded and leave `op` empty).
CompiledNode lowered_node(const NodeSpec& node_spec, ErrorList& errors) {
  CompiledNode node;
  node.name = node_spec.name;
  node.op_type = node_spec.op;
  node.location = node_spec.location;
  const auto* entry = OpRegistry::instance().find(node_spec.op);
  if (!entry) {
    errors.add(node_spec.op_location, "node '" + node_spec.name + "': " + OpRegistry::instance().unknown_message("op", node_spec.op));
    return node;
  }
  try {
    AttrMap attrs = node_spec.attrs;
    node.training = read_training(attrs);
    node.op = entry->factory(attrs);
    attrs.finish();
  } catch (const SpecError& e) {
    errors.add_formatted(e.what());
  }
  return node;
}

void check_arity(const CompiledNode& node, const NodeSpec& node_spec, ErrorList& errors) {
  const int arity = node.op->arity();
  const int given = static_cast<int>(node.inputs.size());
  if (arity == Op::kVariadic ? given >= 2 : given == arity) return;
  errors.add(node_spec.location, "node '" + node.name + "': op '" + node.op_type + "' takes " +
                                     (arity == Op::kVariadic ? "two or more inputs"
                                                             : std::to_string(arity) + " input" + (arity == 1 ? "" : "s")) +
                                     ", got " + std::to_string(given));
}

// Resolves each node's inputs by name into graph edges; `node_of_spec` is each spec node's graph
// node, -1 for one whose name was already taken.
void connect(const ModelSpec& spec, const std::map<std::string, int>& index_of, const std::vector<int>& node_of_spec,
             GraphBuilder& b, ErrorList& errors) {
  auto& nodes = b.nodes();
  std::string known;
  for (const auto& [name, index] : index_of) known += (known.empty() ? "" : ", ") + name;
  b.graph() = Graph(nodes.size());
  for (size_t i = 0; i < nodes.size(); ++i) {
    b.graph()[i].name = nodes[i].name;
    b.graph()[i].op = nodes[i].op_type;
  }
  for (size_t s = 0; s < spec.nodes.size(); ++s) {
    const auto& node_spec = spec.nodes[s];
    const int self = node_of_spec[s];
    if (self < 0) continue;
    auto& node = nodes[static_cast<size_t>(self)];
    for (size_t k = 0; k < node_spec.inputs.size(); ++k) {
      auto source = index_of.find(node_spec.inputs[k]);
      if (source == index_of.end()) {
        errors.add(node_spec.input_locations[k], "node '" + node_spec.name + "': input '" + node_spec.inputs[k] +
                                                      "' is not defined (known: " + known + ")");
        continue;
      }
      node.inputs.push_back(source->second);
      boost::add_edge(static_cast<size_t>(source->second), static_cast<size_t>(self), b.graph());
    }
    if (node.op && node.inputs.size() == node_spec.inputs.size()) check_arity(node, node_spec, errors);
  }
}

}  // namespace

namespace passes {

void lower(const ModelSpec& spec, GraphBuilder b, ErrorList& errors) {
  auto& nodes = b.nodes();
  CompiledNode input;
  input.name = "input";
  input.op_type = "input";
  input.location = spec.input_location;
  input.shape = spec.input;
  nodes.push_back(std::move(input));

  std::map<std::string, int> index_of{{"input", 0}};
  std::vector<int> node_of_spec;  // -1 for a node whose name was already taken
  for (const auto& node_spec : spec.nodes) {
    node_of_spec.push_back(-1);
    if (index_of.count(node_spec.name)) {
      errors.add(node_spec.location, "node name '" + node_spec.name + "' is used twice" +
                                         (node_spec.name == "input" ? " ('input' is the model's input)" : ""));
      continue;
    }
    index_of[node_spec.name] = static_cast<int>(nodes.size());
    node_of_spec.back() = static_cast<int>(nodes.size());
    nodes.push_back(lowered_node(node_spec, errors));
  }
  connect(spec, index_of, node_of_spec, b, errors);
  const auto found = index_of.find(spec.output);
  b.output() = found == index_of.end() ? -1 : found->second;
}

void order(const ModelSpec& spec, GraphBuilder b, ErrorList& errors) {
  auto& nodes = b.nodes();
  std::vector<size_t> reversed;
  try {
    boost::topological_sort(b.graph(), std::back_inserter(reversed));
  } catch (const boost::not_a_dag&) {
    const auto cycle = find_cycle(b.graph());
    std::string path;
    for (size_t i = 0; i < cycle.size(); ++i) path += (i ? " -> " : "") + nodes[static_cast<size_t>(cycle[i])].name;
    errors.add(nodes[static_cast<size_t>(cycle.front())].location, "the graph has a cycle: " + path);
    return;
  }
  b.order().assign(reversed.rbegin(), reversed.rend());
  if (!errors.empty()) return;  // the lowering's errors come first
  if (b.output() <= 0) throw SpecError(spec.output_location, "output '" + spec.output + "' is not a node");

  // Only what the output depends on is part of the model: anything else is a spec mistake.
  std::vector<bool> needed(nodes.size(), false);
  needed[static_cast<size_t>(b.output())] = true;
  for (auto it = b.order().rbegin(); it != b.order().rend(); ++it)
    if (needed[static_cast<size_t>(*it)])
      for (int in : nodes[static_cast<size_t>(*it)].inputs) needed[static_cast<size_t>(in)] = true;
  for (size_t i = 1; i < nodes.size(); ++i)
    if (!needed[i])
      errors.add(nodes[i].location, "node '" + nodes[i].name + "' does not lead to the output '" + spec.output + "'");
}

void infer_shapes(GraphBuilder b, ErrorList& errors) {
  auto& nodes = b.nodes();
  std::vector<bool> shaped(nodes.size(), false);
  shaped[0] = true;
  for (int index : b.order()) {
    auto& node = nodes[static_cast<size_t>(index)];
    if (index == 0) continue;
    std::vector<Shape> input_shapes;
    bool ready = true;
    for (int in : node.inputs) {
      ready = ready && shaped[static_cast<size_t>(in)];
      input_shapes.push_back(nodes[static_cast<size_t>(in)].shape);
    }
    if (!ready) continue;
    try {
      node.shape = node.op->infer_shape(input_shapes);
      // Every later size (buffers, workspaces, parameter arenas) is a product of these: check
      // them in 64-bit arithmetic once, before any op multiplies them.
      for (int d = 0; d < node.shape.rank(); ++d)
        if (node.shape[d] < 1) throw ShapeMismatch("dimension " + std::to_string(d) + " of the output " + node.shape.str() + " is not positive");
      checked_mul(b.max_batch(), node.shape.numel());
      node.op->prepare(input_shapes);
      for (auto& p : node.op->param_specs(input_shapes))
        node.params.push_back({p.name, p.shape, 0, node.training.for_param(p.name), p.initializer,
                               p.default_initializer, p.fans.value_or(compute_fans(p.shape))});
      for (auto& s : node.op->state_specs(input_shapes)) node.state.push_back({s.name, s.shape, 0, s.initial});
      node.workspace = node.op->workspace(b.max_batch());
      node.flops = node.op->flops(input_shapes, node.shape);
      shaped[static_cast<size_t>(index)] = true;
    } catch (const SizeOverflow& e) {
      errors.add(node.location, "node '" + node.name + "' (" + node.op_type + "): too large: " + e.what());
      continue;
    } catch (const ShapeMismatch& e) {
      std::string given;
      for (size_t i = 0; i < input_shapes.size(); ++i)
        given += (i ? ", " : "") + nodes[static_cast<size_t>(node.inputs[i])].name + " " + input_shapes[i].str();
      errors.add(node.location, "node '" + node.name + "' (" + node.op_type + "): " + e.what() + " (inputs: " + given + ")");
      continue;
    } catch (const SpecError& e) {
      errors.add_formatted(e.what());
      continue;
    }
    std::string names;
    for (const auto& p : node.params) names += (names.empty() ? "" : ", ") + p.name;
    for (const auto& [name, where] : node.training.mentioned) {
      const std::string& wanted = name;  // clang 14 cannot capture a structured binding
      const bool exists = std::any_of(node.params.begin(), node.params.end(), [&](const ParamSlot& p) { return p.name == wanted; });
      if (!exists)
        errors.add(where, "node '" + node.name + "' (" + node.op_type + ") has no parameter '" + name + "' (" +
                              (names.empty() ? std::string("it has no parameters") : "parameters: " + names) + ")");
    }
  }
}

void mark_gradients(GraphBuilder b) {
  auto& nodes = b.nodes();
  for (int index : b.order()) {
    auto& node = nodes[static_cast<size_t>(index)];
    node.requires_grad = std::any_of(node.params.begin(), node.params.end(), [](const ParamSlot& p) { return p.training.trainable; });
    for (int in : node.inputs) node.requires_grad = node.requires_grad || nodes[static_cast<size_t>(in)].requires_grad;
  }
}

void plan_weights(GraphBuilder b) {
  auto& nodes = b.nodes();
  auto& sizes = b.sizes();
  sizes.params = sizes.trainable = sizes.state = 0;
  // Trainable parameters first, so the optimizer and the gradient arena see one prefix.
  for (bool trainable : {true, false})
    for (int index : b.order())
      for (auto& p : nodes[static_cast<size_t>(index)].params)
        if (p.training.trainable == trainable) {
          p.offset = sizes.params;
          sizes.params = checked_add(sizes.params, p.size());
          if (trainable) sizes.trainable = checked_add(sizes.trainable, p.size());
        }
  for (int index : b.order())
    for (auto& s : nodes[static_cast<size_t>(index)].state) {
      s.offset = sizes.state;
      sizes.state = checked_add(sizes.state, s.shape.numel());
    }
}

void plan_activations(GraphBuilder b) {
  // Training keeps every activation until backward has used it.
  int64_t total = 0;
  for (int index : b.order()) {
    auto& node = b.nodes()[static_cast<size_t>(index)];
    node.activation_offset = total;
    total = checked_add(total, checked_mul(b.max_batch(), node.shape.numel()));
  }
  b.sizes().activations = total;
}

void plan_workspaces(GraphBuilder b) {
  int64_t saved = 0, scratch = 0;
  for (int index : b.order()) {
    auto& node = b.nodes()[static_cast<size_t>(index)];
    node.saved_offset = saved;
    saved = checked_add(saved, node.workspace.saved);
    scratch = std::max(scratch, node.workspace.scratch);
  }
  b.sizes().saved = saved;
  b.sizes().scratch = scratch;
}

void plan_gradient_buffers(GraphBuilder b) {
  auto& nodes = b.nodes();
  const auto& order = b.order();
  const int steps = static_cast<int>(order.size());
  const auto step_of = steps_of(order, nodes.size(), true);
  // A gradient buffer is live from the backward step of its first consumer (which starts
  // accumulating into it; the output's from the loss, before step 0) to its own backward step.
  std::vector<Interval> intervals;
  int64_t unshared = 0;
  for (size_t i = 0; i < nodes.size(); ++i) {
    if (!nodes[i].requires_grad) continue;
    int first = static_cast<int>(i) == b.output() ? -1 : steps;
    int readers = 0;
    std::pair<size_t, size_t> reader;  // (node, input slot) of the last one found
    for (size_t j = 0; j < nodes.size(); ++j)
      for (size_t k = 0; k < nodes[j].inputs.size(); ++k)
        if (nodes[j].inputs[k] == static_cast<int>(i)) {
          first = std::min(first, step_of[j]);
          ++readers;
          reader = {j, k};
        }
    // One reader alone produces this gradient: if its op writes it outright, nothing clears it.
    nodes[i].gradient_written = static_cast<int>(i) != b.output() && readers == 1 &&
                                nodes[reader.first].op->write_input_gradient(reader.second);
    const int64_t size = b.max_batch() * nodes[i].shape.numel();  // checked by infer_shapes
    intervals.push_back({static_cast<int>(i), first, step_of[i], size});
    unshared = checked_add(unshared, size);
  }
  std::vector<int64_t> offsets(nodes.size(), -1);
  b.sizes().gradients = share_buffers(intervals, offsets);
  b.sizes().unshared_gradients = unshared;
  b.zero_before_step().assign(static_cast<size_t>(steps), {});
  for (const auto& iv : intervals) {
    nodes[static_cast<size_t>(iv.node)].gradient_offset = offsets[static_cast<size_t>(iv.node)];
    // Accumulation starts at step iv.first: clear the buffer just before it (the loss writes the
    // output's own gradient, and a reader that writes a gradient outright needs no clearing).
    if (iv.first >= 0 && !nodes[static_cast<size_t>(iv.node)].gradient_written)
      b.zero_before_step()[static_cast<size_t>(iv.first)].push_back(iv.node);
  }
}

void plan_inference_buffers(GraphBuilder b) {
  auto& nodes = b.nodes();
  const int steps = static_cast<int>(b.order().size());
  const auto step_of = steps_of(b.order(), nodes.size(), false);
  // Forward only: an activation is live from its own step to its last consumer's (the output to
  // the end). A consumer's output never shares with its inputs: their lives meet at its step.
  std::vector<Interval> intervals;
  for (size_t i = 0; i < nodes.size(); ++i) {
    int last = static_cast<int>(i) == b.output() ? steps : step_of[i];
    for (size_t j = 0; j < nodes.size(); ++j)
      for (int in : nodes[j].inputs)
        if (in == static_cast<int>(i)) last = std::max(last, step_of[j]);
    intervals.push_back({static_cast<int>(i), step_of[i], last, b.max_batch() * nodes[i].shape.numel()});
  }
  std::vector<int64_t> offsets(nodes.size(), -1);
  b.sizes().inference = share_buffers(intervals, offsets);
  for (size_t i = 0; i < nodes.size(); ++i) nodes[i].inference_offset = offsets[i];
}

void check_initializers(GraphBuilder b, ErrorList& errors) {
  for (int index : b.order())
    for (const auto& p : b.nodes()[static_cast<size_t>(index)].params) {
      try {
        make_initializer(p);
      } catch (const SpecError& e) {
        errors.add_formatted(e.what());
      }
    }
}

void plan_gemms(GraphBuilder b) {
  GemmPlan& plan = b.gemm_plan();
  auto& nodes = b.nodes();
  for (int index : b.order()) {
    const auto& node = nodes[static_cast<size_t>(index)];
    if (!node.op) continue;
    const auto convolutions = node.op->convolutions(b.max_batch());
    const auto products = node.op->gemms(b.max_batch());
    for (const ConvShape& shape : convolutions) plan.add(shape, products);
    if (convolutions.empty())
      for (const GemmShape& shape : products) plan.add(shape);
    for (size_t k = 0; k < node.inputs.size(); ++k)
      if (node.op->product_reads_input(k)) nodes[static_cast<size_t>(node.inputs[k])].output_feeds_products = true;
  }
  plan.choose({});
}

}  // namespace passes

CompiledGraph compile(const ModelSpec& spec, int64_t max_batch) {
  CompiledGraph out;
  GraphBuilder b{out};
  b.max_batch() = max_batch;
  ErrorList errors;
  passes::lower(spec, b, errors);
  passes::order(spec, b, errors);
  errors.throw_if_any();
  passes::infer_shapes(b, errors);
  errors.throw_if_any();
  passes::mark_gradients(b);
  passes::plan_weights(b);
  passes::plan_activations(b);
  passes::plan_workspaces(b);
  passes::plan_gradient_buffers(b);
  passes::plan_inference_buffers(b);
  passes::check_initializers(b, errors);
  errors.throw_if_any();
  passes::plan_gemms(b);
  return out;
}

Weights initialize_weights(const CompiledGraph& graph, uint64_t seed) {
  Weights w;
  w.params.assign(static_cast<size_t>(graph.sizes().params), 0.0f);
  w.state.assign(static_cast<size_t>(graph.sizes().state), 0.0f);
  // One seeded stream, drawn in topological order: the same seed gives the same weights.
  Rng rng(seed, static_cast<uint64_t>(RngStream::kInit));
  for (int index : graph.order()) {
    const auto& node = graph.nodes()[static_cast<size_t>(index)];
    for (const auto& p : node.params)
      make_initializer(p)->fill({w.params.data() + p.offset, static_cast<size_t>(p.size())}, p.fans, rng);
    for (const auto& s : node.state)
      std::fill_n(w.state.begin() + s.offset, s.shape.numel(), s.initial);
  }
  return w;
}

void write_dot(const CompiledGraph& graph, std::ostream& out) {
  std::vector<std::string> labels;
  for (const auto& node : graph.nodes()) {
    std::string label = node.name + "\\n" + node.op_type + " " + node.shape.str(true);
    if (node.parameter_count()) label += "\\n" + std::to_string(node.parameter_count()) + " params";
    labels.push_back(label);
  }
  boost::write_graphviz(out, graph.graph(), boost::make_label_writer(labels.data()));
}

}  // namespace anneal
