// elu: x for x > 0, alpha (e^x - 1) otherwise (alpha 1.0).
#include "anneal/activation_op.hpp"

namespace anneal {
ANNEAL_REGISTER(OpRegistry, "elu", ActivationOp<ActivationKind::kElu>);
}  // namespace anneal
