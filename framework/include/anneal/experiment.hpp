#pragma once
// Everything one training run needs, built from a model spec: data, compiled graph, loss,
// metrics, optimizer and schedule. The CLI and the tests build runs the same way.

#include <memory>
#include <optional>
#include <vector>

#include "anneal/data.hpp"
#include "anneal/graph.hpp"
#include "anneal/loss.hpp"
#include "anneal/optimizer.hpp"
#include "anneal/schedule.hpp"
#include "anneal/spec.hpp"
#include "anneal/trainer.hpp"

namespace anneal {

struct Experiment {
  ModelSpec spec;
  std::optional<Dataset> train;       // absent when the spec has no data
  std::optional<Dataset> validation;  // absent without validation_split
  CompiledGraph graph;
  std::unique_ptr<Loss> loss;
  std::vector<NamedMetric> metrics;
  std::unique_ptr<Optimizer> optimizer;
  std::unique_ptr<Schedule> schedule;  // null: the optimizer's own rate throughout
};

// Reads the data (when `load_data` and the spec has some), compiles and checks everything
// against everything else: input shape against the data, loss and metrics against the output.
Experiment build_experiment(ModelSpec spec, bool load_data = true);

// What a schedule built for this run may know: the optimizer's rate and momentum, the run's
// length, and the log keys a metric-driven schedule may monitor.
ScheduleContext schedule_context(const Experiment& experiment, const ModelSpec& spec);

struct RunOptions {
  bool verbose = true;
};
// Trains with the progress logger (unless quiet) and the schedule's callback.
History run_experiment(Experiment& experiment, const RunOptions& options = {});

}  // namespace anneal
