// binary_crossentropy (Keras): p clipped to [1e-7, 1 - 1e-7];
// loss = -mean(y log p + (1 - y) log(1 - p)) over every output of every sample. No gradient flows
// through a clipped value.
#include <cmath>

#include "anneal/crossentropy.hpp"
#include "anneal/elementwise_loss.hpp"

namespace anneal {
namespace {

struct BinaryCrossentropyTerm {
  TermValue operator()(float p, float y) const {
    const float q = clip_probability(p);
    const double value = -(y * std::log(q) + (1.0f - y) * std::log(1.0f - q));
    return {value, clipped(p) ? 0.0 : (p - y) / (p * (1.0f - p))};
  }
};

ANNEAL_REGISTER(LossRegistry, "binary_crossentropy", ElementwiseLoss<BinaryCrossentropyTerm>);

}  // namespace
}  // namespace anneal
