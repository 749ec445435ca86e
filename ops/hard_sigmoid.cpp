// hard_sigmoid as Keras 3 defines it: relu6(x + 3) / 6, i.e. clip(x / 6 + 1/2, 0, 1);
// f' = 1/6 inside (-3, 3), 0 outside.
#include <algorithm>

#include "anneal/activation.hpp"

namespace anneal {
namespace {
struct HardSigmoid {
  explicit HardSigmoid(AttrMap&) {}
  static constexpr bool kUsesInput = true;
  float value(float x) const { return std::clamp(x / 6.0f + 0.5f, 0.0f, 1.0f); }
  float derivative(float x, float) const { return x > -3.0f && x < 3.0f ? 1.0f / 6.0f : 0.0f; }
  // ONNX HardSigmoid is max(0, min(1, alpha x + beta)).
  std::string onnx(ExportGraph& g, const std::string& x) const {
    return g.node("HardSigmoid", {x}, {{"alpha", 1.0f / 6.0f}, {"beta", 0.5f}});
  }
};
ANNEAL_REGISTER(OpRegistry, "hard_sigmoid", PointwiseActivation<HardSigmoid>);
}  // namespace
}  // namespace anneal
