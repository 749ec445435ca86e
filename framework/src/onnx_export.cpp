// ONNX export with the generated protobuf classes of Debian's libonnx-dev. The ExportGraph the
// ops write into is backed by an onnx::GraphProto; the model is checked with onnx::checker
// before it is written.
#include "anneal/export.hpp"

#include "anneal/atomic_file.hpp"
#include "anneal/export_graph.hpp"
#include "anneal/op.hpp"

#ifdef ANNEAL_HAVE_ONNX
#include <onnx/checker.h>
#include <onnx/onnx_pb.h>
#endif

#include <map>

namespace anneal {

#ifndef ANNEAL_HAVE_ONNX

bool onnx_export_available() { return false; }

void export_onnx(const CompiledGraph&, const Weights&, const FeatureEncoding&, const std::string&, const std::string&) {
  throw ExportError("this build of Anneal has no ONNX export: install libonnx-dev and libprotobuf-dev, then rebuild "
                    "(or export the weights as a NumPy archive, .npz)");
}

#else

namespace {

class OnnxGraph : public ExportGraph {
 public:
  explicit OnnxGraph(onnx::GraphProto& graph) : graph_(graph) {}

  std::string constant(const std::string& hint, const std::vector<int64_t>& dims, std::span<const float> values) override {
    onnx::TensorProto* t = graph_.add_initializer();
    t->set_name(fresh(hint));
    t->set_data_type(onnx::TensorProto::FLOAT);
    for (int64_t d : dims) t->add_dims(d);
    t->set_raw_data(std::string(reinterpret_cast<const char*>(values.data()), values.size_bytes()));
    return t->name();
  }
  std::string int64_constant(const std::string& hint, const std::vector<int64_t>& dims, std::span<const int64_t> values) override {
    onnx::TensorProto* t = graph_.add_initializer();
    t->set_name(fresh(hint));
    t->set_data_type(onnx::TensorProto::INT64);
    for (int64_t d : dims) t->add_dims(d);
    for (int64_t v : values) t->add_int64_data(v);
    return t->name();
  }
  std::string node(const std::string& op_type, const std::vector<std::string>& inputs, const std::vector<ExportAttr>& attrs,
                   const std::string& hint) override {
    onnx::NodeProto* n = graph_.add_node();
    n->set_op_type(op_type);
    n->set_name(fresh((hint.empty() ? op_type : hint) + "/node"));
    for (const auto& in : inputs) n->add_input(in);
    const std::string out = fresh(hint.empty() ? op_type : hint);
    n->add_output(out);
    for (const auto& a : attrs) {
      onnx::AttributeProto* p = n->add_attribute();
      p->set_name(a.name);
      if (const auto* i = std::get_if<int64_t>(&a.value)) {
        p->set_type(onnx::AttributeProto::INT);
        p->set_i(*i);
      } else if (const auto* f = std::get_if<float>(&a.value)) {
        p->set_type(onnx::AttributeProto::FLOAT);
        p->set_f(*f);
      } else if (const auto* v = std::get_if<std::vector<int64_t>>(&a.value)) {
        p->set_type(onnx::AttributeProto::INTS);
        for (int64_t x : *v) p->add_ints(x);
      } else {
        p->set_type(onnx::AttributeProto::STRING);
        p->set_s(std::get<std::string>(a.value));
      }
    }
    return out;
  }
  int64_t opset() const override { return kOnnxOpset; }

  // A value name not used before: the hint, or the hint with a counter.
  std::string fresh(const std::string& hint) {
    const int n = used_[hint]++;
    return n == 0 ? hint : hint + "_" + std::to_string(n);
  }

 private:
  onnx::GraphProto& graph_;
  std::map<std::string, int> used_;
};

void set_value(onnx::ValueInfoProto* v, const std::string& name, const Shape& per_sample) {
  v->set_name(name);
  auto* type = v->mutable_type()->mutable_tensor_type();
  type->set_elem_type(onnx::TensorProto::FLOAT);
  auto* shape = type->mutable_shape();
  shape->add_dim()->set_dim_param("N");
  for (int i = 0; i < per_sample.rank(); ++i) shape->add_dim()->set_dim_value(per_sample[i]);
}

// input [N, F] -> (x - offset) / scale -> [N, model input shape].
std::string export_input(OnnxGraph& g, const CompiledGraph& graph, const FeatureEncoding& encoding) {
  std::string x = "input";
  const Shape& in = graph.input_shape();
  const int64_t features = in.numel();
  if (!encoding.offset.empty()) {
    x = g.node("Sub", {x, g.constant("normalize/offset", {features}, encoding.offset)}, {}, "normalize");
    x = g.node("Div", {x, g.constant("normalize/scale", {features}, encoding.scale)}, {}, "normalize");
  }
  if (in.rank() > 1) {
    std::vector<int64_t> dims = batch_dims(in);
    dims[0] = 0;
    x = g.node("Reshape", {x, g.int64_constant("input/shape", {static_cast<int64_t>(dims.size())}, dims)}, {}, "input_image");
  }
  return x;
}

}  // namespace

bool onnx_export_available() { return true; }

void export_onnx(const CompiledGraph& graph, const Weights& weights, const FeatureEncoding& encoding,
                 const std::string& model_name, const std::string& path) {
  onnx::ModelProto model;
  model.set_ir_version(8);
  model.set_producer_name("anneal");
  model.set_model_version(1);
  auto* opset = model.add_opset_import();
  opset->set_domain("");
  opset->set_version(kOnnxOpset);
  onnx::GraphProto* proto = model.mutable_graph();
  proto->set_name(model_name);
  set_value(proto->add_input(), "input", Shape{graph.input_shape().numel()});
  OnnxGraph g(*proto);
  g.fresh("input");
  g.fresh("output");

  std::vector<std::string> value(graph.nodes().size());
  value[CompiledGraph::kInputNode] = export_input(g, graph, encoding);
  for (int index : graph.order()) {
    if (index == CompiledGraph::kInputNode) continue;
    const CompiledNode& n = graph.nodes()[static_cast<size_t>(index)];
    ExportNode node;
    node.name = n.name;
    node.output_shape = n.shape;
    for (int in : n.inputs) {
      node.inputs.push_back(value[static_cast<size_t>(in)]);
      node.input_shapes.push_back(graph.nodes()[static_cast<size_t>(in)].shape);
    }
    for (const auto& p : n.params) node.params.emplace_back(weights.params.data() + p.offset, static_cast<size_t>(p.size()));
    for (const auto& s : n.state) node.state.emplace_back(weights.state.data() + s.offset, static_cast<size_t>(s.shape.numel()));
    try {
      value[static_cast<size_t>(index)] = n.op->export_onnx(g, node);
    } catch (const ExportError& e) {
      throw ExportError("cannot export node '" + n.name + "' (" + n.op_type + "): " + e.what());
    }
  }
  onnx::NodeProto* out = proto->add_node();
  out->set_op_type("Identity");
  out->set_name("output/node");
  out->add_input(value[static_cast<size_t>(graph.output())]);
  out->add_output("output");
  set_value(proto->add_output(), "output", graph.output_shape());

  try {
    onnx::checker::check_model(model);
  } catch (const std::exception& e) {
    throw RuntimeFailure(std::string("the exported ONNX model fails ONNX's checker: ") + e.what());
  }
  std::string bytes;
  if (!model.SerializeToString(&bytes)) throw RuntimeFailure("cannot serialise the ONNX model");
  write_file_atomically(path, bytes);
}

#endif

}  // namespace anneal
