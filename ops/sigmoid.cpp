// sigmoid: 1 / (1 + e^-x), computed without overflow.
#include "anneal/activation_op.hpp"

namespace anneal {
ANNEAL_REGISTER(OpRegistry, "sigmoid", ActivationOp<ActivationKind::kSigmoid>);
}  // namespace anneal
