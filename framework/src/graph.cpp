#include "anneal/graph.hpp"

#include <boost/graph/graphviz.hpp>
#include <boost/graph/topological_sort.hpp>

#include <algorithm>
#include <functional>
#include <limits>
#include <map>
#include <numeric>

#include "anneal/initializer.hpp"
#include "anneal/rng.hpp"

namespace anneal {

int64_t CompiledNode::parameter_count() const {
  int64_t n = 0;
  for (const auto& p : params) n += p.shape.numel();
  return n;
}

int64_t CompiledGraph::unshared_gradient_bytes() const {
  int64_t floats = 0;
  for (const auto& node : nodes_)
    if (node.requires_grad) floats += max_batch_ * node.shape.numel();
  return floats * static_cast<int64_t>(sizeof(float));
}

int64_t CompiledGraph::planned_bytes() const {
  return static_cast<int64_t>(sizeof(float) * (params_.size() + param_grads_.size() +
                                               activations_.size() + activation_grads_.size()));
}

namespace {

class ErrorList {
 public:
  void add(const SourceLocation& where, const std::string& what) {
    messages_.push_back(format_error(where, what));
  }
  void add_formatted(const std::string& message) { messages_.push_back(message); }
  bool empty() const { return messages_.empty(); }
  void throw_if_any() const {
    if (messages_.empty()) return;
    std::string joined;
    for (size_t i = 0; i < messages_.size(); ++i) joined += (i ? "\n" : "") + messages_[i];
    throw SpecError(joined);
  }

 private:
  std::vector<std::string> messages_;
};

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

std::unique_ptr<Initializer> make_initializer(const ParamSpec& spec) {
  AttrMap attrs = spec.initializer;
  if (attrs.node().size() == 0) {
    YAML::Node map(YAML::NodeType::Map);
    map["type"] = spec.default_initializer;
    attrs = AttrMap(map, attrs.origin(), attrs.path(), attrs.what());
  }
  return create_from<InitializerRegistry>(attrs, "initializer");
}

}  // namespace

namespace {

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
      total += iv.size;
      best = &blocks.back();
    }
    best->free_after = iv.last;
    offsets[static_cast<size_t>(iv.node)] = best->offset;
  }
  return total;
}

}  // namespace

int64_t plan_gradient_buffers(CompiledGraph& g, int64_t max_batch) {
  auto& nodes = g.nodes();
  const auto& order = g.order();
  // Backward runs the order in reverse: step k runs node order[size - 1 - k].
  const int steps = static_cast<int>(order.size());
  std::vector<int> step_of(nodes.size());
  for (int k = 0; k < steps; ++k) step_of[static_cast<size_t>(order[static_cast<size_t>(steps - 1 - k)])] = k;
  // A gradient buffer is live from the backward step of its first consumer (which starts
  // accumulating into it; the output's from the loss, before step 0) to its own backward step.
  std::vector<Interval> intervals;
  for (size_t i = 0; i < nodes.size(); ++i) {
    if (!nodes[i].requires_grad) continue;
    int first = static_cast<int>(i) == g.output() ? -1 : steps;
    for (size_t j = 0; j < nodes.size(); ++j)
      for (int in : nodes[j].inputs)
        if (in == static_cast<int>(i)) first = std::min(first, step_of[j]);
    intervals.push_back({static_cast<int>(i), first, step_of[i], max_batch * nodes[i].shape.numel()});
  }
  std::vector<int64_t> offsets(nodes.size(), -1);
  const int64_t total = share_buffers(intervals, offsets);
  g.zero_before_step_.assign(static_cast<size_t>(steps), {});
  for (const auto& iv : intervals) {
    nodes[static_cast<size_t>(iv.node)].gradient_offset = offsets[static_cast<size_t>(iv.node)];
    // Accumulation starts at step iv.first: clear the buffer just before it (the loss writes the
    // output's own gradient).
    if (iv.first >= 0) g.zero_before_step_[static_cast<size_t>(iv.first)].push_back(iv.node);
  }
  return total;
}

int64_t plan_inference_buffers(CompiledGraph& g, int64_t max_batch) {
  auto& nodes = g.nodes();
  const auto& order = g.order();
  const int steps = static_cast<int>(order.size());
  std::vector<int> step_of(nodes.size());
  for (int k = 0; k < steps; ++k) step_of[static_cast<size_t>(order[static_cast<size_t>(k)])] = k;
  // Forward only: an activation is live from its own step to its last consumer's (the output to
  // the end). A consumer's output never shares with its inputs: their lives meet at its step.
  std::vector<Interval> intervals;
  for (size_t i = 0; i < nodes.size(); ++i) {
    int last = static_cast<int>(i) == g.output() ? steps : step_of[i];
    for (size_t j = 0; j < nodes.size(); ++j)
      for (int in : nodes[j].inputs)
        if (in == static_cast<int>(i)) last = std::max(last, step_of[j]);
    intervals.push_back({static_cast<int>(i), step_of[i], last, max_batch * nodes[i].shape.numel()});
  }
  g.inference_offsets_.assign(nodes.size(), -1);
  return share_buffers(intervals, g.inference_offsets_);
}

CompiledGraph compile(const ModelSpec& spec, int64_t max_batch, uint64_t seed) {
  CompiledGraph out;
  out.max_batch_ = max_batch;
  ErrorList errors;
  auto& nodes = out.nodes_;

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
    CompiledNode node;
    node.name = node_spec.name;
    node.op_type = node_spec.op;
    node.location = node_spec.location;
    const auto* entry = OpRegistry::instance().find(node_spec.op);
    if (!entry) {
      errors.add(node_spec.op_location, "node '" + node_spec.name + "': " +
                                            OpRegistry::instance().unknown_message("op", node_spec.op));
    } else {
      try {
        AttrMap attrs = node_spec.attrs;
        node.op = entry->factory(attrs);
        attrs.finish();
      } catch (const SpecError& e) {
        errors.add_formatted(e.what());
      }
    }
    nodes.push_back(std::move(node));
  }

  // Resolve inputs by name and build the graph's topology.
  std::vector<std::string> known_names;
  for (const auto& [name, index] : index_of) known_names.push_back(name);
  out.graph_ = Graph(nodes.size());
  for (size_t i = 0; i < nodes.size(); ++i) {
    out.graph_[i].name = nodes[i].name;
    out.graph_[i].op = nodes[i].op_type;
  }
  for (size_t s = 0; s < spec.nodes.size(); ++s) {
    const auto& node_spec = spec.nodes[s];
    const int self = node_of_spec[s];
    if (self < 0) continue;
    auto& node = nodes[static_cast<size_t>(self)];
    for (size_t k = 0; k < node_spec.inputs.size(); ++k) {
      auto source = index_of.find(node_spec.inputs[k]);
      if (source == index_of.end()) {
        std::string list;
        for (size_t i = 0; i < known_names.size(); ++i) list += (i ? ", " : "") + known_names[i];
        errors.add(node_spec.input_locations[k], "node '" + node_spec.name + "': input '" +
                                                      node_spec.inputs[k] + "' is not defined (known: " +
                                                      list + ")");
        continue;
      }
      node.inputs.push_back(source->second);
      boost::add_edge(static_cast<size_t>(source->second), static_cast<size_t>(self), out.graph_);
    }
    if (node.op && node.inputs.size() == node_spec.inputs.size()) {
      const int arity = node.op->arity();
      const int given = static_cast<int>(node.inputs.size());
      if (arity == Op::kVariadic ? given < 2 : given != arity)
        errors.add(node_spec.location, "node '" + node.name + "': op '" + node.op_type + "' takes " +
                                           (arity == Op::kVariadic ? "two or more inputs"
                                                                   : std::to_string(arity) + " input" + (arity == 1 ? "" : "s")) +
                                           ", got " + std::to_string(given));
    }
  }

  std::vector<size_t> reversed;
  try {
    boost::topological_sort(out.graph_, std::back_inserter(reversed));
  } catch (const boost::not_a_dag&) {
    const auto cycle = find_cycle(out.graph_);
    std::string path;
    for (size_t i = 0; i < cycle.size(); ++i) path += (i ? " -> " : "") + nodes[static_cast<size_t>(cycle[i])].name;
    errors.add(nodes[static_cast<size_t>(cycle.front())].location, "the graph has a cycle: " + path);
  }
  errors.throw_if_any();
  out.order_.assign(reversed.rbegin(), reversed.rend());

  auto output = index_of.find(spec.output);
  if (output == index_of.end() || output->second == 0)
    throw SpecError(spec.output_location, "output '" + spec.output + "' is not a node");
  out.output_ = output->second;

  // Only what the output depends on is part of the model: anything else is a spec mistake.
  std::vector<bool> needed(nodes.size(), false);
  needed[static_cast<size_t>(out.output_)] = true;
  for (auto it = out.order_.rbegin(); it != out.order_.rend(); ++it)
    if (needed[static_cast<size_t>(*it)])
      for (int in : nodes[static_cast<size_t>(*it)].inputs) needed[static_cast<size_t>(in)] = true;
  for (size_t i = 1; i < nodes.size(); ++i)
    if (!needed[i])
      errors.add(nodes[i].location, "node '" + nodes[i].name + "' does not lead to the output '" +
                                        spec.output + "'");
  errors.throw_if_any();

  // Shape inference and parameter specs, in topological order.
  std::vector<std::vector<ParamSpec>> param_specs(nodes.size());
  std::vector<bool> shaped(nodes.size(), false);
  shaped[0] = true;
  for (int index : out.order_) {
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
      param_specs[static_cast<size_t>(index)] = node.op->param_specs(input_shapes);
      node.op->prepare(input_shapes, max_batch);
      shaped[static_cast<size_t>(index)] = true;
    } catch (const ShapeMismatch& e) {
      std::string given;
      for (size_t i = 0; i < input_shapes.size(); ++i)
        given += (i ? ", " : "") + nodes[static_cast<size_t>(node.inputs[i])].name + " " + input_shapes[i].str();
      errors.add(node.location, "node '" + node.name + "' (" + node.op_type + "): " + e.what() +
                                    " (inputs: " + given + ")");
    } catch (const SpecError& e) {
      errors.add_formatted(e.what());
    }
  }
  errors.throw_if_any();

  // Needs-gradient pass: a node's output gradient is needed when it or anything upstream has
  // parameters. The model input never needs one.
  for (int index : out.order_) {
    auto& node = nodes[static_cast<size_t>(index)];
    node.requires_grad = !param_specs[static_cast<size_t>(index)].empty();
    for (int in : node.inputs) node.requires_grad = node.requires_grad || nodes[static_cast<size_t>(in)].requires_grad;
  }

  // Memory plan: offsets first, then one allocation per arena. Activations all live until
  // backward has used them; gradient buffers share memory where their lifetimes do not overlap.
  int64_t activation_size = 0, param_size = 0;
  for (int index : out.order_) {
    auto& node = nodes[static_cast<size_t>(index)];
    node.activation_offset = activation_size;
    activation_size += max_batch * node.shape.numel();
    for (const auto& p : param_specs[static_cast<size_t>(index)]) {
      node.params.push_back({p.name, p.shape, param_size});
      param_size += p.shape.numel();
    }
  }
  const int64_t gradient_size = plan_gradient_buffers(out, max_batch);
  out.inference_floats_ = plan_inference_buffers(out, max_batch);  // allocated by an inference executor
  out.activations_.assign(static_cast<size_t>(activation_size), 0.0f);
  out.activation_grads_.assign(static_cast<size_t>(gradient_size), 0.0f);
  out.params_.assign(static_cast<size_t>(param_size), 0.0f);
  out.param_grads_.assign(static_cast<size_t>(param_size), 0.0f);

  // Initialise parameters in topological order from one seeded stream.
  Rng rng(seed, static_cast<uint64_t>(RngStream::kInit));
  for (int index : out.order_) {
    auto& node = nodes[static_cast<size_t>(index)];
    const auto& specs = param_specs[static_cast<size_t>(index)];
    for (size_t k = 0; k < specs.size(); ++k) {
      std::unique_ptr<Initializer> init;
      try {
        init = make_initializer(specs[k]);
      } catch (const SpecError& e) {
        errors.add_formatted(e.what());
        continue;
      }
      const auto& slot = node.params[k];
      init->fill({out.params_.data() + slot.offset, static_cast<size_t>(slot.shape.numel())},
                 compute_fans(slot.shape), rng);
    }
  }
  errors.throw_if_any();
  return out;
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
