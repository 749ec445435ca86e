#pragma once
// Mini-batch training: shuffles the training rows every epoch from the seed, runs the executor,
// the loss and the optimizer, evaluates on the validation rows, and drives the callbacks. All of
// the run's progress lives in a TrainState, so a run can stop anywhere (even mid-epoch) and be
// resumed to the same result bit for bit.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "anneal/callback.hpp"
#include "anneal/communicator.hpp"
#include "anneal/data.hpp"
#include "anneal/executor.hpp"
#include "anneal/loss.hpp"
#include "anneal/metric.hpp"
#include "anneal/optimizer.hpp"
#include "anneal/rng.hpp"

namespace anneal {

struct NamedMetric {
  std::string name;
  std::unique_ptr<Metric> metric;
};

struct EpochRecord {
  Logs logs;          // loss, metrics, val_loss, val_metrics, lr
  double time_s = 0;  // wall time of the epoch's training and validation
};

struct History {
  std::vector<EpochRecord> epochs;
  // Column names in order (from the first epoch).
  std::vector<std::string> keys() const;
};

struct TrainOptions {
  int64_t epochs = 1;
  int64_t batch_size = 32;
  bool shuffle = true;
  uint64_t seed = 0;
  // Asked after every batch: non-zero (the CLI passes the signal number of a SIGINT or SIGTERM)
  // stops the run resumably, as Caffe's action callback does. Empty: never.
  std::function<int()> stop_request = nullptr;
  // Non-zero: pause once this many epochs are done (of `epochs`, which the schedule still sees as
  // the run's length), leaving a state that resumes as if the run had not stopped. Successive
  // halving trains each configuration in such slices.
  int64_t pause_at = 0;
  // Data-parallel training over this communicator's ranks (null or one rank: this process
  // alone). Every rank runs the same trainer on the same data: each global batch of
  // `batch_size` rows is split into contiguous slices, one per rank; the outputs are gathered so
  // that every rank computes the loss, its gradient and the metrics over the whole batch as one
  // process would; each rank back-propagates its slice and the parameter gradients are summed
  // over the ranks, so every rank takes the same update. Non-trainable state (batch-norm moving
  // statistics) is averaged after every update. Validation splits its rows the same way.
  Communicator* comm = nullptr;
};

// Everything about a run's progress that is not weights or optimizer state.
struct TrainState {
  int64_t epoch = 0;           // the epoch in progress, or the next one to start
  int64_t step = 0;            // updates done
  int64_t batch_in_epoch = 0;  // batches of `epoch` done; 0: it has not started
  Rng::State epoch_shuffle{};  // the shuffle stream as `epoch` began (its order is rebuilt from it)
  Rng::State dropout{};
  // The partial epoch's accumulators.
  double loss_sum = 0, reg_loss_sum = 0, lr_used = 0, time_s = 0;
  int64_t seen = 0;
  std::vector<std::vector<double>> metric_states;  // each metric's accumulator (Metric::state_size)
  History history;
  std::string failure;  // why a run failed (FitResult::kFailed)
};

// kStopped: a callback ended training early; kFailed: a callback failed it (state.failure says
// why); kInterrupted: TrainOptions::stop_request asked to stop; kPaused: TrainOptions::pause_at
// was reached. After the last two the state is resumable.
enum class FitResult { kCompleted, kStopped, kFailed, kInterrupted, kPaused };

struct Evaluation {
  double loss = 0;  // includes the regularization terms, as Keras reports it
  std::vector<double> metrics;  // in NamedMetric order
};

class Trainer {
 public:
  // Trains `weights` (the plan's parameters and state) with an executor of its own.
  Trainer(const CompiledGraph& graph, Weights& weights, const Loss& loss, const std::vector<NamedMetric>& metrics,
          Optimizer& optimizer, TrainOptions options);

  void add_callback(Callback* callback) { callbacks_.push_back(callback); }
  // A fresh state for this trainer's seed.
  TrainState initial_state() const;
  // Writes a checkpoint of a committed state (between epochs) to a path.
  using CheckpointWriter = std::function<void(const TrainState&, const std::string&)>;
  // Trains from `state` until options.epochs, a callback's stop, or a stop request, leaving
  // `state` where it stopped. Checkpoints that callbacks
  // request are written through `writer` after their epoch is committed.
  FitResult fit(const Dataset& train, const Dataset* validation, TrainState& state,
                const CheckpointWriter& writer = {});
  // Convenience: a whole run from the start.
  History fit(const Dataset& train, const Dataset* validation);
  // With `outputs`, also keeps the model's outputs for every row ([rows, output size]).
  Evaluation evaluate(const Dataset& data, std::vector<float>* outputs = nullptr);
  Executor& executor() { return executor_; }

 private:
  // fit()'s phases: buffers, the weights' agreement over ranks and the dropout stream; the
  // epoch's row order (returns the shuffle stream after it); one update; the epoch's logs.
  void prepare_fit(const Dataset& train, TrainState& state);
  Rng shuffle(const TrainState& state);
  double train_batch(const Dataset& train, int64_t begin, int64_t count, TrainState& state);
  // The running sums and metric states an epoch starts from.
  void reset_epoch_sums(TrainState& state, int64_t rows, int64_t target_width);
  // The epoch's batches from state.batch_in_epoch on; false when a stop request interrupts the
  // epoch before its last batch.
  bool run_batches(const Dataset& train, TrainState& state, Progress& progress, TrainingContext& ctx);
  EpochRecord epoch_record(const Dataset& train, const Dataset* validation, const TrainState& state);
  // The batch's targets (and sample weights) at [0, count), and the features of its rows
  // [begin, end) in the executor's input.
  void gather(const Dataset& data, const int64_t* rows, int64_t count, int64_t begin, int64_t end);
  // The forward pass of a batch: here its rows, over ranks this rank's slice, whose outputs are
  // then gathered. Returns this rank's [begin, end) of the batch; outputs_of_batch() has them all.
  std::pair<int64_t, int64_t> forward_batch(const Dataset& data, const int64_t* rows, int64_t count, bool training);
  void size_distributed_buffers();
  // Every rank's outputs of the batch (this rank's in the executor) into all_outputs_.
  void gather_outputs(int64_t count, int64_t local);
  // Sums the parameter gradients over the ranks and averages the non-trainable state.
  void reduce_update();
  bool distributed() const { return options_.comm && options_.comm->size() > 1; }
  // The forward pass of a training batch (as one process would see it, on every rank) with
  // the loss's gradient in the executor; returns the batch's loss and leaves the outputs the
  // metrics read at outputs_of_batch().
  double train_forward(const Dataset& data, const int64_t* rows, int64_t count, int64_t& local);
  const float* outputs_of_batch() const { return distributed() ? all_outputs_.data() : executor_.output(); }
  // Sizes (and zeroes) each metric's accumulator for up to `rows` rows; keeps capacity.
  void reset_metrics(std::vector<std::vector<double>>& states, int64_t rows, int64_t target_width) const;
  double batch_loss(const Dataset& data, const float* output, int64_t count, int64_t target_width, float* grad) const;
  // Whether stop_request asks to stop; over ranks, whether it asks on any rank (every rank
  // must stop at the same batch).
  bool stop_requested() const;

  const CompiledGraph& graph_;
  Weights& weights_;
  Executor executor_;
  const Loss& loss_;
  const std::vector<NamedMetric>& metrics_;
  Optimizer& optimizer_;
  TrainOptions options_;
  std::vector<Callback*> callbacks_;
  std::vector<float> targets_;  // [max_batch, target width]
  std::vector<float> weights_batch_;  // [max_batch] sample weights, when the data has them
  std::vector<int64_t> order_;  // this epoch's row order
  // Distributed: the whole batch's outputs and their loss gradient, and each rank's share.
  std::vector<float> all_outputs_, all_output_grads_;
  std::vector<int64_t> gather_counts_;
};

// Writes the history CSV atomically: epoch (1-based), the log keys, time_s.
void write_history_csv(const History& history, const std::string& path);


}  // namespace anneal
