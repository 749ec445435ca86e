#pragma once
// The trainer's one extension point. Hooks come in begin/end pairs and default to doing nothing.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "anneal/attr_map.hpp"
#include "anneal/logs.hpp"
#include "anneal/registry.hpp"
#include "anneal/schedule.hpp"

namespace anneal {

class Optimizer;
struct Weights;

// What callbacks may read and change while training runs.
class TrainingContext {
 public:
  TrainingContext(Optimizer& optimizer, Progress& progress, Weights& weights)
      : optimizer_(optimizer), progress_(progress), weights_(weights) {}
  const Progress& progress() const { return progress_; }
  double lr() const;
  void set_lr(double lr);
  // The rate the next update uses (lr after the optimizer's legacy decay).
  double effective_lr() const;
  std::optional<double> momentum() const;
  void set_momentum(double m);
  // Whether the optimizer keeps its model apart from the point it trains at (schedule-free):
  // then the weights are the training point, not the model.
  bool optimizer_has_model_point() const;

  // Ends training after the current batch's epoch end.
  void request_stop() { stop_requested_ = true; }
  bool stop_requested() const { return stop_requested_; }
  // Ends training and marks the run as failed (exit code 1), e.g. on a NaN loss.
  void fail(std::string message) {
    failure_ = std::move(message);
    stop_requested_ = true;
  }
  const std::string& failure() const { return failure_; }

  // The model's weights (parameters and non-trainable state), for callbacks that snapshot or
  // restore them.
  Weights& weights() const { return weights_; }
  // Asks for a resumable checkpoint of the whole run at `path`, written once the current epoch
  // is complete (so it resumes at the next epoch).
  void request_checkpoint(std::string path) { checkpoint_requests_.push_back(std::move(path)); }
  std::vector<std::string> take_checkpoint_requests() { return std::exchange(checkpoint_requests_, {}); }

  int64_t train_samples = 0;
  int64_t val_samples = 0;
  int64_t batch_in_epoch = 0;  // batches done in the current epoch

 private:
  Optimizer& optimizer_;
  Progress& progress_;
  Weights& weights_;
  bool stop_requested_ = false;
  std::string failure_;
  std::vector<std::string> checkpoint_requests_;
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
  // State that a resumed run needs (best values, counters, saved weights), as numbers.
  virtual void save_state(std::vector<double>& /*out*/) const {}
  virtual void load_state(std::span<const double>& /*in*/) {}
  // True for a callback that only reports (prints, writes files) and changes nothing the run
  // computes: in data-parallel training it runs on rank 0 alone. A callback that can stop the
  // run or change the rate must say false (the default), so that every rank runs it alike.
  virtual bool writes_output() const { return false; }
};

using CallbackRegistry = Registry<Callback, AttrMap&, const ScheduleContext&>;

// The next n numbers of a saved state, consumed from `in`; throws InputError naming `owner` when
// fewer are left (a damaged or foreign checkpoint), so load_state never reads past the end.
std::span<const double> take_state(std::span<const double>& in, size_t n, const std::string& owner);

// A run's callback with the type it was registered as, which keys its saved state.
struct NamedCallback {
  std::string type;
  std::unique_ptr<Callback> callback;
};

// Every callback's state as blocks [type id, length, values...], in order.
std::vector<double> save_callback_states(const std::vector<NamedCallback>& callbacks);
// Gives each callback the first unused saved block of its type. A callback without one starts
// fresh, and blocks of callbacks this run does not have are skipped; `note` hears of both.
// Throws InputError for a damaged layout, or a block its callback does not read exactly.
void load_callback_states(std::span<const double> saved, const std::vector<NamedCallback>& callbacks,
                          const std::function<void(const std::string&)>& note);

}  // namespace anneal
