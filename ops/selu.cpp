// selu (Klambauer et al. 2017, Keras constants): scale * (x for x > 0, alpha (e^x - 1) otherwise).
// For x <= 0 the derivative scale alpha e^x equals y + scale alpha.
#include <cmath>

#include "anneal/activation.hpp"

namespace anneal {
namespace {
struct Selu {
  explicit Selu(AttrMap&) {}
  static constexpr bool kUsesInput = false;
  static constexpr float kAlpha = 1.6732632423543772f, kScale = 1.0507009873554805f;
  float value(float x) const { return x > 0 ? kScale * x : kScale * kAlpha * std::expm1(x); }
  float derivative(float, float y) const { return y > 0 ? kScale : y + kScale * kAlpha; }
  std::string onnx(ExportGraph& g, const std::string& x) const {
    return g.node("Selu", {x}, {{"alpha", kAlpha}, {"gamma", kScale}});
  }
};
ANNEAL_REGISTER(OpRegistry, "selu", PointwiseActivation<Selu>);
}  // namespace
}  // namespace anneal
