// sigmoid: 1 / (1 + e^-x), written so that exp never overflows; f' = y (1 - y).
#include "anneal/activation.hpp"

namespace anneal {
namespace {
struct Sigmoid {
  explicit Sigmoid(AttrMap&) {}
  static constexpr bool kUsesInput = false;
  float value(float x) const { return stable_sigmoid(x); }
  float derivative(float, float y) const { return y * (1.0f - y); }
  std::string onnx(ExportGraph& g, const std::string& x) const { return g.node("Sigmoid", {x}); }
};
ANNEAL_REGISTER(OpRegistry, "sigmoid", PointwiseActivation<Sigmoid>);
}  // namespace
}  // namespace anneal
