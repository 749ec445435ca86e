// mae: mean absolute error, mean(|p - y|) over every output of every sample (the gradient at
// p == y is 0).
#include <cmath>

#include "anneal/elementwise_loss.hpp"

namespace anneal {
namespace {

struct AbsoluteErrorTerm {
  TermValue operator()(float p, float y) const {
    const double d = static_cast<double>(p) - y;
    return {std::abs(d), static_cast<double>((d > 0) - (d < 0))};
  }
};

ANNEAL_REGISTER(LossRegistry, "mae", ElementwiseLoss<AbsoluteErrorTerm>);

}  // namespace
}  // namespace anneal
