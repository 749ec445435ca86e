// leaky_relu: x for x > 0, alpha x otherwise (alpha 0.3, as Keras' LeakyReLU).
#include "anneal/activation_op.hpp"

namespace anneal {
ANNEAL_REGISTER(OpRegistry, "leaky_relu", ActivationOp<ActivationKind::kLeakyRelu>);
}  // namespace anneal
