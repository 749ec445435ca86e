// softplus: log(1 + e^x), computed as max(x, 0) + log1p(e^-|x|) so it never overflows;
// f' = sigmoid(x).
#include <cmath>

#include "anneal/activation.hpp"

namespace anneal {
namespace {
struct Softplus {
  explicit Softplus(AttrMap&) {}
  static constexpr bool kUsesInput = true;
  float value(float x) const { return std::max(x, 0.0f) + std::log1p(std::exp(-std::abs(x))); }
  float derivative(float x, float) const { return stable_sigmoid(x); }
  std::string onnx(ExportGraph& g, const std::string& x) const { return g.node("Softplus", {x}); }
};
ANNEAL_REGISTER(OpRegistry, "softplus", PointwiseActivation<Softplus>);
}  // namespace
}  // namespace anneal
