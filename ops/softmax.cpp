// softmax: exp(x - max) / sum, over the last axis.
#include "anneal/activation_op.hpp"

namespace anneal {
ANNEAL_REGISTER(OpRegistry, "softmax", ActivationOp<ActivationKind::kSoftmax>);
}  // namespace anneal
