// tanh; f' = 1 - y^2.
#include <cmath>

#include "anneal/activation.hpp"

namespace anneal {
namespace {
struct Tanh {
  explicit Tanh(AttrMap&) {}
  static constexpr bool kUsesInput = false;
  float value(float x) const { return std::tanh(x); }
  float derivative(float, float y) const { return 1.0f - y * y; }
  std::string onnx(ExportGraph& g, const std::string& x) const { return g.node("Tanh", {x}); }
};
ANNEAL_REGISTER(OpRegistry, "tanh", PointwiseActivation<Tanh>);
}  // namespace
}  // namespace anneal
