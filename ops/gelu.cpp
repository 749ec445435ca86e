// gelu, the exact form (Keras' default, approximate=False): x Phi(x) = x (1 + erf(x / sqrt 2)) / 2;
// f' = Phi(x) + x phi(x).
#include <cmath>

#include "anneal/activation.hpp"

namespace anneal {
namespace {
struct Gelu {
  explicit Gelu(AttrMap&) {}
  static constexpr bool kUsesInput = true;
  float value(float x) const { return 0.5f * x * (1.0f + std::erf(x * 0.70710678118654752f)); }
  float derivative(float x, float) const {
    const float cdf = 0.5f * (1.0f + std::erf(x * 0.70710678118654752f));
    const float pdf = 0.39894228040143268f * std::exp(-0.5f * x * x);
    return cdf + x * pdf;
  }
  // Opset 17 has no Gelu: x (1 + erf(x / sqrt 2)) / 2 from Div, Erf, Add, Mul.
  std::string onnx(ExportGraph& g, const std::string& x) const {
    const float sqrt2 = 1.41421356237309505f, one = 1.0f, half = 0.5f;
    const std::string e = g.node("Erf", {g.node("Div", {x, g.constant("sqrt2", {}, {&sqrt2, 1})})});
    const std::string p = g.node("Add", {e, g.constant("one", {}, {&one, 1})});
    return g.node("Mul", {g.node("Mul", {x, p}), g.constant("half", {}, {&half, 1})});
  }
};
ANNEAL_REGISTER(OpRegistry, "gelu", PointwiseActivation<Gelu>);
}  // namespace
}  // namespace anneal
