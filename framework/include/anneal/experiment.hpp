#pragma once
// Everything one training run needs, built from a model spec: data, compiled graph, loss,
// metrics, optimizer and schedule. The CLI and the tests build runs the same way.

#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "anneal/data.hpp"
#include "anneal/encoding.hpp"
#include "anneal/graph.hpp"
#include "anneal/loss.hpp"
#include "anneal/optimizer.hpp"
#include "anneal/schedule.hpp"
#include "anneal/spec.hpp"
#include "anneal/callback.hpp"
#include "anneal/checkpoint.hpp"
#include "anneal/trainer.hpp"

namespace anneal {

struct Experiment {
  ModelSpec spec;
  std::optional<Dataset> train;       // encoded rows; absent when the spec has no data
  std::optional<Dataset> validation;  // absent without validation_split or validation_path
  FeatureEncoding encoding;  // raw rows -> model inputs, fitted on the training rows
  std::vector<std::string> warnings;  // worth telling the user before training (unscaled features)
  CompiledGraph graph;   // the plan
  Weights weights;       // its parameters and state, initialised from train.seed
  std::unique_ptr<Loss> loss;
  std::vector<NamedMetric> metrics;
  std::unique_ptr<Optimizer> optimizer;
  std::unique_ptr<Schedule> schedule;  // null: the optimizer's own rate throughout
};

// How the plan is made, beyond the spec: what the machine allows.
struct BuildOptions {
  // Bytes (0: none): a plan that would need more for training is refused before anything is
  // allocated, with the figures.
  int64_t memory_limit = 0;
  GemmOptions gemm;  // which library runs each matrix product (default: all on OpenBLAS)
};

// Reads the data (when `load_data` and the spec has some), compiles and checks everything
// against everything else: input shape against the data, loss and metrics against the output.
// The graph is planned for the largest batch a run can see: batch_size, or the training rows
// when there are fewer.
// `fixed`: encode the rows with this encoding (a checkpoint's) instead of fitting one.
Experiment build_experiment(ModelSpec spec, bool load_data = true, const BuildOptions& options = {},
                            const FeatureEncoding* fixed = nullptr);
// The same on raw rows the caller chose (cross-validation folds): the encoding is fitted on
// `train` unless `fixed` is given.
Experiment build_experiment_on(ModelSpec spec, std::optional<Dataset> train, std::optional<Dataset> validation,
                               const BuildOptions& options = {}, const FeatureEncoding* fixed = nullptr);

// The spec's raw rows split into training and validation rows: train.validation_split with
// train.split, or data.validation_path (its labels aligned with the training file's).
struct RawSplit {
  Dataset train;
  std::optional<Dataset> validation;
};
RawSplit load_raw_split(const ModelSpec& spec);

// Checks every row's target against what the loss accepts (exit-2 DataError naming the first
// offending row and the classes found).
void check_labels(const Loss& loss, const std::string& loss_name, const Dataset& data, int64_t output_width);

// Bytes a training run of the plan needs: weights, one training executor (its product runner's
// buffers included once the products are chosen) and up to three optimizer buffers per trainable
// parameter (Adam with amsgrad).
int64_t training_memory(const CompiledGraph& graph);
// Throws MemoryLimitExceeded when training_memory exceeds the limit, naming the batch, the total,
// the activations, the product runner's buffers (when chosen) and the limit.
void check_memory(const CompiledGraph& graph, int64_t memory_limit);

// What a schedule built for this run may know: the optimizer's rate and momentum, the run's
// length, and the log keys a metric-driven schedule may monitor.
ScheduleContext schedule_context(const Experiment& experiment, const ModelSpec& spec);

struct RunOptions {
  bool verbose = true;
  std::string save_path;    // write a checkpoint here when the run ends (or is interrupted)
  std::string resume_path;  // continue from this checkpoint
  std::string interrupt_path;  // where an interrupted run saves when there is no save_path
  std::function<int()> stop_request;  // see TrainOptions::stop_request
  int64_t pause_at = 0;               // see TrainOptions::pause_at; the checkpoint goes to save_path
  // Non-zero with resume_path: the checkpoint comes from a run of this many epochs and continues
  // into the spec's longer one. Refused unless the longer run's schedule gives every update
  // already done the same rate and momentum (a wsd checkpoint from before its decay phase).
  int64_t extended_from = 0;
  // Data-parallel training over these ranks (see TrainOptions::comm). Every rank calls
  // run_experiment with the same spec; only rank 0 runs the callbacks that write output and
  // writes checkpoints, and a checkpoint resumes onto any number of ranks.
  Communicator* comm = nullptr;
};

struct RunResult {
  History history;
  FitResult result = FitResult::kCompleted;
  std::string failure;          // FitResult::kFailed
  std::string checkpoint_path;  // written at the end or on an interrupt ("" if none)
  int signal = 0;               // what stop_request returned when the run stopped
};

// Trains with the schedule's callback, the progress logger (unless quiet), terminate_on_nan
// (unless turned off) and the spec's callbacks; resumes from and saves checkpoints.
RunResult run_experiment(Experiment& experiment, const RunOptions& options = {});

// Identifies a model's structure (graph, loss, metrics, optimizer and schedule types): a
// checkpoint only loads into a run with the same hash.
uint64_t model_hash(const Experiment& experiment);
uint64_t graph_hash(const Experiment& experiment);

// Puts the weights (parameters and state) of a loaded checkpoint into the experiment (evaluate,
// predict, export); refuses a checkpoint of another graph. `path` names it in messages.
void load_weights(Experiment& experiment, const Checkpoint& checkpoint, const std::string& path);
// The data encoding a checkpoint was trained with (empty for synthetic data).
FeatureEncoding checkpoint_encoding(const Checkpoint& checkpoint, const std::string& path);

}  // namespace anneal
