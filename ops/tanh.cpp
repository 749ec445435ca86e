// tanh: tanh(x).
#include "anneal/activation_op.hpp"

namespace anneal {
ANNEAL_REGISTER(OpRegistry, "tanh", ActivationOp<ActivationKind::kTanh>);
}  // namespace anneal
