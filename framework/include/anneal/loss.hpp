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
  // Empty when a target row is one this loss can learn from, else what is wrong with it
  // ("needs labels 0 or 1, got 2"); checked on every row before training.
  virtual std::string target_problem(const float* target, int64_t target_width, int64_t width) const {
    (void)target, (void)target_width, (void)width;
    return {};
  }
  // A classifier's outputs are class scores (predict and evaluate then decode labels and report
  // per-class figures); a regression loss says false.
  virtual bool classifies() const { return false; }
  // Keras' sample weighting: sum_i w_i loss_i / batch, each row's gradient scaled by its weight.
  // Built on forward_backward one row at a time, so every loss (a plugin's too) supports it.
  double weighted_forward_backward(const float* output, const float* target, const float* weights, int64_t batch,
                                   int64_t width, int64_t target_width, float* grad) const;
};

using LossRegistry = Registry<Loss, AttrMap&>;

}  // namespace anneal
