// linear: the identity (Keras' default activation). Fused users skip it.
#include "anneal/activation.hpp"

namespace anneal {
namespace {
struct Identity {
  explicit Identity(AttrMap&) {}
  static constexpr bool kUsesInput = false;
  float value(float x) const { return x; }
  float derivative(float, float) const { return 1.0f; }
  std::string onnx(ExportGraph&, const std::string& x) const { return x; }
};
class Linear : public PointwiseActivation<Identity> {
 public:
  using PointwiseActivation::PointwiseActivation;
  bool is_identity() const override { return true; }
  void activate_with_bias(float* y, const float* bias, int64_t rows, int64_t width) const override {
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t j = 0; j < width; ++j) y[r * width + j] += bias[j];
  }
};
ANNEAL_REGISTER(OpRegistry, "linear", Linear);
}  // namespace
}  // namespace anneal
