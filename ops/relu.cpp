// relu: max(x, 0). The derivative is read from the output (y > 0 exactly when x > 0).
#include "anneal/activation.hpp"

namespace anneal {
namespace {
struct Relu {
  explicit Relu(AttrMap&) {}
  static constexpr bool kUsesInput = false;
  float value(float x) const { return x > 0 ? x : 0.0f; }
  float derivative(float, float y) const { return y > 0 ? 1.0f : 0.0f; }
  std::string onnx(ExportGraph& g, const std::string& x) const { return g.node("Relu", {x}); }
};
ANNEAL_REGISTER(OpRegistry, "relu", PointwiseActivation<Relu>);
}  // namespace
}  // namespace anneal
