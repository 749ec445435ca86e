// silu, also registered as swish (Keras' two names): x sigmoid(x); f' = s (1 + x (1 - s)).
#include "anneal/activation.hpp"

namespace anneal {
namespace {
struct Silu {
  explicit Silu(AttrMap&) {}
  static constexpr bool kUsesInput = true;
  float value(float x) const { return x * stable_sigmoid(x); }
  float derivative(float x, float) const {
    const float s = stable_sigmoid(x);
    return s * (1.0f + x * (1.0f - s));
  }
  std::string onnx(ExportGraph& g, const std::string& x) const { return g.node("Mul", {x, g.node("Sigmoid", {x})}); }
};
ANNEAL_REGISTER(OpRegistry, "silu", PointwiseActivation<Silu>);
ANNEAL_REGISTER(OpRegistry, "swish", PointwiseActivation<Silu>);
}  // namespace
}  // namespace anneal
