#pragma once
// Optimizers step over the trainable part of the parameter arena (one contiguous buffer), reading
// the learning rate and momentum the trainer set for this update. The base class applies what
// every optimizer shares: Keras' gradient clipping (clipnorm, clipvalue, global_clipnorm), the
// legacy `decay`, and per-parameter multipliers (Caffe's lr_mult / decay_mult), by calling
// update() once per run of parameters that share their multipliers.

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "anneal/attr_map.hpp"
#include "anneal/registry.hpp"

namespace anneal {

// One parameter tensor as the optimizer sees it: where it lies in the arena and its multipliers.
struct ParamGroup {
  int64_t offset = 0, size = 0;
  double lr_mult = 1, decay_mult = 1;
};

// A run of parameters to update in one call. State buffers are indexed from `offset`.
struct UpdateSlice {
  std::span<float> w;
  std::span<const float> g;
  size_t offset = 0;
  float lr = 0;          // the rate times the parameters' lr_mult
  float decay_mult = 1;  // scales the optimizer's weight decay
};

class Optimizer {
 public:
  // Reads `lr`, the legacy Keras `decay` and the clipping options shared by every optimizer.
  Optimizer(AttrMap& attrs, double default_lr);
  virtual ~Optimizer() = default;

  // Sizes state buffers; called once at compile time, never in the training loop.
  virtual void prepare(int64_t parameter_count) = 0;
  // The parameter tensors (for per-tensor clipping and multipliers); by default one tensor
  // covers the whole arena.
  void set_groups(std::vector<ParamGroup> groups);
  // One update: clips `grads` in place when asked to, uses effective_lr(), then counts the update.
  // With `threads` > 1 an optimizer whose update is elementwise (below) updates large runs of
  // parameters in parts on that many threads of the products' pool (parallel_for): the same bits
  // as on one thread.
  void step(std::span<float> params, std::span<float> grads, int threads = 1);

  double lr() const { return lr_; }
  void set_lr(double lr) { lr_ = lr; }
  // The rate this update uses: lr / (1 + decay * iterations) (Keras legacy `decay`).
  double effective_lr() const { return lr_ / (1.0 + decay_ * static_cast<double>(iterations_)); }
  // The step size the history's `lr` column shows: the rate, or for an optimizer that estimates
  // its own step size (D-Adaptation, Prodigy) the rate it will actually use.
  virtual double logged_lr() const { return effective_lr(); }
  // Momentum (SGD) or beta_1 (Adam); nullopt where the optimizer has none.
  virtual std::optional<double> momentum() const { return std::nullopt; }
  virtual void set_momentum(double /*m*/) {}

  int64_t iterations() const { return iterations_; }
  void set_iterations(int64_t n) { iterations_ = n; }
  // State buffers (velocities, moments) for checkpoints.
  virtual std::vector<std::span<float>> state() { return {}; }

  // Some optimizers take gradients at one point and hold the model at another (schedule-free:
  // the gradient at y, the model is the average x). They declare it here; the trainer evaluates
  // at the model point, checkpoints store it (evaluate, predict and export read the model), and a
  // resumed run moves back to the training point, which these optimizers rebuild exactly from
  // their state. The trainable parameters are passed; the defaults do nothing.
  virtual bool has_model_point() const { return false; }
  virtual void to_model_point(std::span<float> /*params*/) const {}
  virtual void to_training_point(std::span<float> /*params*/) const {}

 protected:
  // Once per update, before the update() calls, with the update's rate (after the legacy decay)
  // and the whole (clipped) gradient; and once after them. For what spans the whole step rather
  // than one run of parameters: sums over every parameter, a rate estimated from them.
  virtual void begin_step(double /*lr*/, std::span<const float> /*params*/, std::span<const float> /*grads*/) {}
  virtual void end_step() {}
  virtual void update(const UpdateSlice& slice) = 0;
  // Whether update() reads and writes only its slice's elements (of the parameters, gradients and
  // state from `offset`) and no other member, so that disjoint parts of a run may be updated on
  // several threads at once. False by default: an optimizer that sums over the step inside
  // update() (D-Adaptation) or keeps a per-update scalar there (Nadam) must stay on one thread.
  virtual bool update_is_elementwise() const { return false; }

 private:
  void clip(std::span<float> grads) const;
  void update_run(const UpdateSlice& run, int threads);

  double lr_;
  double decay_;
  double clipnorm_ = 0, clipvalue_ = 0, global_clipnorm_ = 0;
  int64_t iterations_ = 0;
  std::vector<ParamGroup> tensors_;  // one per parameter tensor (clipnorm)
  std::vector<ParamGroup> runs_;     // neighbours with equal multipliers merged (update calls)
};

using OptimizerRegistry = Registry<Optimizer, AttrMap&>;

}  // namespace anneal
