#include "anneal/optimizer.hpp"

namespace anneal {

Optimizer::Optimizer(AttrMap& attrs, double default_lr)
    : lr_(attrs.get<double>("lr", default_lr)), decay_(attrs.get<double>("decay", 0.0)) {
  attrs.require(lr_ >= 0, "lr", "must be >= 0");
  attrs.require(decay_ >= 0, "decay", "must be >= 0");
}

void Optimizer::step(std::span<float> params, std::span<const float> grads) {
  update(params, grads, static_cast<float>(effective_lr()));
  ++iterations_;
}

}  // namespace anneal
