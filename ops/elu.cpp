// elu: x for x > 0, alpha (e^x - 1) otherwise (Keras ELU: alpha 1). For x <= 0 the derivative
// alpha e^x equals y + alpha, so it is read from the output.
#include <cmath>

#include "anneal/activation.hpp"

namespace anneal {
namespace {
struct Elu {
  explicit Elu(AttrMap& a) : alpha(static_cast<float>(a.get<double>("alpha", 1.0))) {
    a.require(alpha > 0, "alpha", "must be > 0");
  }
  static constexpr bool kUsesInput = false;
  float value(float x) const { return x > 0 ? x : alpha * std::expm1(x); }
  float derivative(float, float y) const { return y > 0 ? 1.0f : y + alpha; }
  float alpha;
  std::string onnx(ExportGraph& g, const std::string& x) const { return g.node("Elu", {x}, {{"alpha", alpha}}); }
};
ANNEAL_REGISTER(OpRegistry, "elu", PointwiseActivation<Elu>);
}  // namespace
}  // namespace anneal
