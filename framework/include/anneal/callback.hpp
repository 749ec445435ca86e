#pragma once
// The trainer's one extension point. Hooks come in begin/end pairs and default to doing nothing.

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "anneal/attr_map.hpp"
#include "anneal/logs.hpp"
#include "anneal/registry.hpp"
#include "anneal/schedule.hpp"

namespace anneal {

class Optimizer;

// What callbacks may read and change while training runs.
class TrainingContext {
 public:
  TrainingContext(Optimizer& optimizer, Progress& progress)
      : optimizer_(optimizer), progress_(progress) {}
  const Progress& progress() const { return progress_; }
  double lr() const;
  void set_lr(double lr);
  // The rate the next update uses (lr after the optimizer's legacy decay).
  double effective_lr() const;
  std::optional<double> momentum() const;
  void set_momentum(double m);
  void request_stop() { stop_requested_ = true; }
  bool stop_requested() const { return stop_requested_; }
  int64_t train_samples = 0;
  int64_t val_samples = 0;

 private:
  Optimizer& optimizer_;
  Progress& progress_;
  bool stop_requested_ = false;
};

class Callback {
 public:
  virtual ~Callback() = default;
  virtual void on_train_begin(TrainingContext&) {}
  virtual void on_train_end(TrainingContext&) {}
  virtual void on_epoch_begin(TrainingContext&) {}
  virtual void on_epoch_end(TrainingContext&, Logs&) {}
  virtual void on_batch_begin(TrainingContext&) {}
  virtual void on_batch_end(TrainingContext&, double /*batch_loss*/) {}
};

using CallbackRegistry = Registry<Callback, AttrMap&, const ScheduleContext&>;

}  // namespace anneal
