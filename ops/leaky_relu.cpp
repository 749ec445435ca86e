// leaky_relu: x for x > 0, alpha x otherwise (Keras LeakyReLU: alpha 0.3). With alpha > 0 the
// output keeps the input's sign, so the derivative is read from the output.
#include "anneal/activation.hpp"

namespace anneal {
namespace {
struct LeakyRelu {
  explicit LeakyRelu(AttrMap& a) : alpha(static_cast<float>(a.get<double>("alpha", 0.3))) {
    a.require(alpha > 0, "alpha", "must be > 0");
  }
  static constexpr bool kUsesInput = false;
  float value(float x) const { return x > 0 ? x : alpha * x; }
  float derivative(float, float y) const { return y > 0 ? 1.0f : alpha; }
  float alpha;
  std::string onnx(ExportGraph& g, const std::string& x) const { return g.node("LeakyRelu", {x}, {{"alpha", alpha}}); }
};
ANNEAL_REGISTER(OpRegistry, "leaky_relu", PointwiseActivation<LeakyRelu>);
}  // namespace
}  // namespace anneal
