#include "anneal/op.hpp"

#include "anneal/export_graph.hpp"

namespace anneal {

Flops Op::flops(const std::vector<Shape>& /*inputs*/, const Shape& output) const {
  const double n = static_cast<double>(output.numel());
  return {n, 2 * n, 2 * n};
}

std::string Op::export_onnx(ExportGraph&, const ExportNode&) const {
  throw ExportError("the op has no ONNX form (it does not implement export_onnx)");
}

Shape common_shape(const std::vector<Shape>& in) {
  for (size_t i = 1; i < in.size(); ++i)
    if (in[i] != in[0]) throw ShapeMismatch("inputs must have the same shape, got " + in[0].str() + " and " + in[i].str());
  return in[0];
}

}  // namespace anneal
