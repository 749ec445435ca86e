// mse: mean squared error, mean((p - y)^2) over every output of every sample.
#include "anneal/elementwise_loss.hpp"

namespace anneal {
namespace {

struct SquaredErrorTerm {
  TermValue operator()(float p, float y) const {
    const double d = static_cast<double>(p) - y;
    return {d * d, 2 * d};
  }
};

ANNEAL_REGISTER(LossRegistry, "mse", ElementwiseLoss<SquaredErrorTerm>);

}  // namespace
}  // namespace anneal
