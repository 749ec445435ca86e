// softsign: x / (1 + |x|); f' = 1 / (1 + |x|)^2.
#include <cmath>

#include "anneal/activation.hpp"

namespace anneal {
namespace {
struct Softsign {
  explicit Softsign(AttrMap&) {}
  static constexpr bool kUsesInput = true;
  float value(float x) const { return x / (1.0f + std::abs(x)); }
  float derivative(float x, float) const {
    const float d = 1.0f + std::abs(x);
    return 1.0f / (d * d);
  }
  std::string onnx(ExportGraph& g, const std::string& x) const { return g.node("Softsign", {x}); }
};
ANNEAL_REGISTER(OpRegistry, "softsign", PointwiseActivation<Softsign>);
}  // namespace
}  // namespace anneal
