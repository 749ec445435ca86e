// linear: the identity (a named pass-through, useful as a graph output).
#include "anneal/activation_op.hpp"

namespace anneal {
ANNEAL_REGISTER(OpRegistry, "linear", ActivationOp<ActivationKind::kLinear>);
}  // namespace anneal
