// binary_crossentropy (Keras): p clipped to [1e-7, 1 - 1e-7];
// loss = -mean(y log p + (1 - y) log(1 - p)) over every output of every sample. No gradient flows
// through a clipped value.
// from_logits: true reads the output as a logit z and uses the stable form
// max(z, 0) - z y + log(1 + e^-|z|), whose gradient is sigmoid(z) - y (no clipping).
#include <cmath>
#include <cstdio>

#include "anneal/activation.hpp"
#include "anneal/crossentropy.hpp"
#include "anneal/elementwise_loss.hpp"

namespace anneal {
namespace {

struct BinaryCrossentropyTerm {
  static constexpr bool kClassifies = true;
  explicit BinaryCrossentropyTerm(AttrMap& a) : from_logits(a.get<bool>("from_logits", false)) {}
  TermValue operator()(float p, float y) const {
    if (from_logits) {
      const double z = p;
      const double value = std::max(z, 0.0) - z * y + std::log1p(std::exp(-std::abs(z)));
      return {value, stable_sigmoid(p) - y};
    }
    const float q = clip_probability(p);
    const double value = -(y * std::log(q) + (1.0f - y) * std::log(1.0f - q));
    return {value, clipped(p) ? 0.0 : (p - y) / (p * (1.0f - p))};
  }
  // Two classes: hard labels 0 or 1 (a soft label in between is a probability, as Keras allows).
  std::string target_problem(float y) const {
    if (y >= 0 && y <= 1) return {};
    char text[32];
    std::snprintf(text, sizeof text, "%g", static_cast<double>(y));
    return "needs two classes, labels 0 or 1, got " + std::string(text);
  }
  bool from_logits;
};

ANNEAL_REGISTER(LossRegistry, "binary_crossentropy", ElementwiseLoss<BinaryCrossentropyTerm>);

}  // namespace
}  // namespace anneal
