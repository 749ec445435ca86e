// relu: max(x, 0).
#include "anneal/activation_op.hpp"

namespace anneal {
ANNEAL_REGISTER(OpRegistry, "relu", ActivationOp<ActivationKind::kRelu>);
}  // namespace anneal
