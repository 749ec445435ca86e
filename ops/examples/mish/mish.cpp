// An example op plugin: the Mish activation (Misra, 2019), f(x) = x tanh(softplus(x)).
// An elementwise activation is a small function object; PointwiseActivation turns it into an op
// that works as a layer ({type: mish}) and as the `activation:` of dense or conv2d.
//   f'(x) = tanh(sp) + x sigmoid(x) (1 - tanh(sp)^2),  sp = softplus(x) = log(1 + e^x)
#include <anneal/plugin.hpp>

#include <algorithm>
#include <cmath>

namespace {

struct Mish {
  explicit Mish(anneal::AttrMap&) {}  // no attributes; an unknown key is refused for us
  static constexpr bool kUsesInput = true;  // the derivative needs x, not only y

  static float softplus(float x) { return std::max(x, 0.0f) + std::log1p(std::exp(-std::abs(x))); }
  float value(float x) const { return x * std::tanh(softplus(x)); }
  float derivative(float x, float) const {
    const float t = std::tanh(softplus(x));
    return t + x * anneal::stable_sigmoid(x) * (1.0f - t * t);
  }
  // Optional: its form in an exported ONNX graph (anneal export), x tanh(softplus(x)).
  std::string onnx(anneal::ExportGraph& g, const std::string& x) const {
    return g.node("Mul", {x, g.node("Tanh", {g.node("Softplus", {x})})});
  }
};

}  // namespace

ANNEAL_PLUGIN(registrar) { registrar.op<anneal::PointwiseActivation<Mish>>("mish"); }
