#pragma once
// How an op describes itself in another format (ONNX): it adds nodes and constants to an
// ExportGraph and returns the name of its output value. Tensors carry the batch as their first
// dimension, as ONNX does (Anneal's shapes are per sample). The core's ONNX writer
// (framework/src/onnx_export.cpp) implements ExportGraph; ops never see protobuf types, so an op
// plugin can export itself with this header alone.

#include <cstdint>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "anneal/errors.hpp"
#include "anneal/shape.hpp"

namespace anneal {

// An ONNX node attribute: int, float, ints or string.
struct ExportAttr {
  std::string name;
  std::variant<int64_t, float, std::vector<int64_t>, std::string> value;
};

class ExportGraph {
 public:
  virtual ~ExportGraph() = default;
  // A float constant (an ONNX initializer); returns its value name. `hint` seeds the name.
  virtual std::string constant(const std::string& hint, const std::vector<int64_t>& dims, std::span<const float> values) = 0;
  virtual std::string int64_constant(const std::string& hint, const std::vector<int64_t>& dims,
                                     std::span<const int64_t> values) = 0;
  // Adds a node of the default ONNX domain; returns the name of its (single) output.
  virtual std::string node(const std::string& op_type, const std::vector<std::string>& inputs,
                           const std::vector<ExportAttr>& attrs = {}, const std::string& hint = "") = 0;
  // The opset the graph is written for (ops may choose a form by it).
  virtual int64_t opset() const = 0;
};

// What an op knows about its node when it exports.
struct ExportNode {
  std::string name;
  std::vector<std::string> inputs;  // value names, [N, per-sample shape...]
  std::vector<Shape> input_shapes;  // per sample
  Shape output_shape;               // per sample
  std::vector<std::span<const float>> params;  // in param_specs order
  std::vector<std::span<const float>> state;   // in state_specs order
};

// An op (or a fused activation) that has no form in the target format.
class ExportError : public InputError {
 public:
  using InputError::InputError;
};

// ONNX dims of a per-sample shape with a leading batch of 1 (for broadcast constants).
inline std::vector<int64_t> batch_dims(const Shape& s) {
  std::vector<int64_t> out{1};
  for (int i = 0; i < s.rank(); ++i) out.push_back(s[i]);
  return out;
}

}  // namespace anneal
