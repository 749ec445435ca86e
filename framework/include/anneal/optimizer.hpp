#pragma once
// Optimizers step over the whole parameter arena at once (one contiguous buffer), reading the
// learning rate and momentum the trainer set for this update.

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "anneal/attr_map.hpp"
#include "anneal/registry.hpp"

namespace anneal {

class Optimizer {
 public:
  // Reads `lr` and the legacy Keras `decay` shared by every optimizer.
  Optimizer(AttrMap& attrs, double default_lr);
  virtual ~Optimizer() = default;

  // Sizes state buffers; called once at compile time, never in the training loop.
  virtual void prepare(int64_t parameter_count) = 0;
  // One update. Uses effective_lr(), then counts the update.
  void step(std::span<float> params, std::span<const float> grads);

  double lr() const { return lr_; }
  void set_lr(double lr) { lr_ = lr; }
  // The rate this update uses: lr / (1 + decay * iterations) (Keras legacy `decay`).
  double effective_lr() const { return lr_ / (1.0 + decay_ * static_cast<double>(iterations_)); }
  // Momentum (SGD) or beta_1 (Adam); nullopt where the optimizer has none.
  virtual std::optional<double> momentum() const { return std::nullopt; }
  virtual void set_momentum(double /*m*/) {}

  int64_t iterations() const { return iterations_; }
  void set_iterations(int64_t n) { iterations_ = n; }
  // State buffers (velocities, moments) for checkpoints.
  virtual std::vector<std::span<float>> state() { return {}; }

 protected:
  virtual void update(std::span<float> params, std::span<const float> grads, float lr) = 0;

 private:
  double lr_;
  double decay_;
  int64_t iterations_ = 0;
};

using OptimizerRegistry = Registry<Optimizer, AttrMap&>;

}  // namespace anneal
