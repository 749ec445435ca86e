#pragma once
// Losses compare the model's output with the targets. forward_backward() fuses the loss value
// and its gradient in one pass over the batch.

#include <cstdint>
#include <string>

#include "anneal/attr_map.hpp"
#include "anneal/registry.hpp"
#include "anneal/shape.hpp"

namespace anneal {

class Loss {
 public:
  virtual ~Loss() = default;
  // Empty when the output shape and target width fit; otherwise what is wrong.
  virtual std::string check(const Shape& output, int64_t target_width) const = 0;
  // Mean loss over the batch. When grad != nullptr it receives dLoss/dOutput (overwritten).
  // output and grad are [batch, width]; target is [batch, target_width].
  virtual double forward_backward(const float* output, const float* target, int64_t batch,
                                  int64_t width, int64_t target_width, float* grad) const = 0;
};

using LossRegistry = Registry<Loss, AttrMap&>;

}  // namespace anneal
