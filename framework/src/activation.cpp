#include "anneal/activation.hpp"

#include "anneal/spec.hpp"

namespace anneal {

Flops ActivationOp::flops(const std::vector<Shape>& /*inputs*/, const Shape& output) const {
  const double n = static_cast<double>(output.numel());
  return {4 * n, 4 * n};  // a handful of operations per element; transcendental ones count as one
}

namespace {
// Rows of the last axis: softmax works per row, elementwise functions do not care.
int64_t row_width(const Shape& shape) { return shape.rank() == 0 ? 1 : shape.back(); }
}  // namespace

void ActivationOp::forward(const OpContext& ctx) const {
  const int64_t width = row_width(ctx.output.shape);
  activate(ctx.inputs[0].data, ctx.output.data, ctx.batch * ctx.output.sample_size() / width, width);
}

void ActivationOp::backward(const OpContext& ctx) const {
  if (ctx.input_grads[0].empty()) return;
  const int64_t width = row_width(ctx.output.shape);
  activate_backward(uses_input() ? ctx.inputs[0].data : nullptr, ctx.output.data, ctx.output_grad.data,
                    ctx.input_grads[0].data, ctx.batch * ctx.output.sample_size() / width, width,
                    /*accumulate=*/!writes_input_gradient_);
}

void ActivationOp::activate_with_bias(float* y, const float* bias, int64_t rows, int64_t width) const {
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t j = 0; j < width; ++j) y[r * width + j] += bias[j];
  activate(y, y, rows, width);
}

namespace {
std::vector<std::string> activation_list() {
  std::vector<std::string> out;
  for (const auto& [name, entry] : OpRegistry::instance().entries()) {
    // An op that needs attributes to be built is not an activation (activations have defaults).
    try {
      AttrMap none(YAML::Node(YAML::NodeType::Map), std::make_shared<SpecOrigin>(), name, "op '" + name + "'");
      if (dynamic_cast<ActivationOp*>(entry.factory(none).get())) out.push_back(name);
    } catch (const std::exception&) {
    }
  }
  return out;
}
}  // namespace

std::string activation_names() {
  std::string out;
  for (const auto& name : activation_list()) out += (out.empty() ? "" : ", ") + name;
  return out;
}

std::unique_ptr<ActivationOp> activation_attr(AttrMap& attrs, const std::string& key, const std::string& fallback) {
  AttrMap spec = nested_typed_attrs(attrs, key, fallback);
  const auto type = spec.get<std::string>("type");
  const auto* entry = OpRegistry::instance().find(type);
  if (!entry) attrs.fail(key, "is '" + type + "', expected an activation (" + suggest_known(type, activation_list()) + ")");
  auto not_an_activation = [&] {
    attrs.fail(key, "is '" + type + "', an op that is not an activation; expected one of " + activation_names());
  };
  std::unique_ptr<Op> op;
  try {
    op = entry->factory(spec);
  } catch (const SpecError&) {
    // An op that cannot even be built from these attributes may not be an activation at all
    // (`activation: dense`): say that rather than what dense is missing.
    const std::string names = ", " + activation_names() + ", ";
    if (names.find(", " + type + ", ") == std::string::npos) not_an_activation();
    throw;
  }
  spec.finish();
  auto* activation = dynamic_cast<ActivationOp*>(op.get());
  if (!activation) not_an_activation();
  op.release();
  return std::unique_ptr<ActivationOp>(activation);
}

std::string ActivationOp::export_activation(ExportGraph&, const std::string&) const {
  throw ExportError("the activation has no ONNX form (it does not implement export_activation)");
}

std::string ActivationOp::export_onnx(ExportGraph& graph, const ExportNode& node) const {
  return export_activation(graph, node.inputs[0]);
}

}  // namespace anneal
