// anneal cv: k-fold cross-validation. Every fold trains a fresh model (same spec, schedule and
// seed) on the other folds and reports the held-out accuracy (or loss).
#include <cmath>
#include <cstdio>

#include "anneal/atomic_file.hpp"
#include "anneal/experiment.hpp"
#include "anneal/folds.hpp"
#include "anneal/stats.hpp"
#include "anneal/work_queue.hpp"
#include "distributed.hpp"
#include "options.hpp"

namespace anneal::cli {

namespace {

// What every fold shares: the spec, the raw rows and the metric reported.
struct CvPlan {
  ModelSpec base;
  Dataset all;
  std::string metric;
  int folds = 10;
  bool stratified = false;
  BuildOptions build;
};

CvPlan plan_cv(const po::variables_map& vm, const std::string& model, const std::string& schedule,
               int folds, int seeds) {
  if (folds < 2) throw UsageError("--folds must be at least 2");
  if (seeds < 1) throw UsageError("--seeds must be at least 1");
  LoadOptions load = load_options(vm);
  load.sets.push_back("train.validation_split=0");  // the folds are the validation
  if (vm.count("epochs")) load.sets.push_back(flag_override("--epochs", std::to_string(vm["epochs"].as<int64_t>()), "train.epochs"));
  if (vm.count("schedule")) load.schedule_file = schedule;
  CvPlan plan{load_model_spec(model, load), {}, {}, folds, vm["stratified"].as<bool>(), build_options(vm)};
  if (!plan.base.data) throw SpecError(SourceLocation{model, 0, 0}, "cross-validation needs the spec's data: section");
  ModelSpec raw_spec = plan.base;
  raw_spec.data->validation_path.clear();  // the folds are the validation
  plan.all = load_raw_split(raw_spec).train;  // raw rows: each fold fits its own encoding
  Experiment probe = build_experiment_on(plan.base, take_rows(plan.all, 0, std::min<int64_t>(plan.all.rows(), 2)), std::nullopt,
                                         plan.build);
  if (folds > plan.all.rows())
    throw UsageError("--folds " + std::to_string(folds) + " is more than the " + std::to_string(plan.all.rows()) + " rows (" +
                     plan.all.source + "): every fold needs at least one row");
  plan.metric = probe.metrics.empty() ? "val_loss" : "val_" + probe.metrics.front().name;
  return plan;
}

// Trains fold `fold` of seed `seed` from scratch; its result as a task's message: the metric and
// the held-out rows.
std::string run_fold(const CvPlan& plan, uint64_t seed, int fold) {
  const std::vector<int> fold_of = assign_folds(plan.all, plan.folds, plan.stratified, seed);
  ModelSpec spec = plan.base;
  spec.train.seed = seed;
  spec.data->validation_path.clear();
  Experiment ex = build_experiment_on(spec, select_rows(plan.all, fold_of, fold, false), select_rows(plan.all, fold_of, fold, true),
                                      plan.build);
  RunOptions quiet;
  quiet.verbose = false;
  const RunResult result = run_experiment(ex, quiet);
  if (result.result == FitResult::kFailed) throw RuntimeFailure("fold " + std::to_string(fold + 1) + ": " + result.failure);
  char text[64];
  std::snprintf(text, sizeof text, "%.17g", result.history.epochs.back().logs.get(plan.metric, NAN));
  return pack_fields({text, std::to_string(ex.validation->rows())});
}

struct CvOptions {
  std::string model, schedule, output;
  int folds = 10, seeds = 1;
  Unsigned first_seed{1};
};

void add_cv_options(po::options_description& options, CvOptions& o) {
  options.add_options()
      ("model", po::value(&o.model)->required(), "model spec (YAML)")
      ("folds", po::value(&o.folds)->default_value(10), "number of folds k")
      ("stratified", po::bool_switch(), "keep each class's share in every fold")
      ("schedule", po::value(&o.schedule), "schedule spec (YAML)")
      ("seeds", po::value(&o.seeds)->default_value(1), "repeat with this many seeds (folds and weights change)")
      ("first-seed", po::value(&o.first_seed)->default_value(Unsigned{1}), "the first seed")
      ("epochs", po::value<int64_t>(), "override train.epochs")
      ("set", set_option(), kSetHelp)
      ("output,o", po::value(&o.output), "write per-fold results as CSV");
  add_distributed_options(options);
}

void print_cv_summary(const std::vector<double>& values, const CvOptions& o, const std::string& metric) {
  const Summary sum = summarize(values);
  const Interval ci = bootstrap_mean_interval(values, 0);
  std::printf("%s over %d folds x %d seeds: mean %.4f +- %.4f (std), 95%% CI [%.4f, %.4f] (percentile bootstrap, "
              "10 000 resamples), median %.4f, min %.4f, max %.4f\n",
              metric.c_str(), o.folds, o.seeds, sum.mean, sum.stddev, ci.low, ci.high, sum.median, sum.min, sum.max);
}

}  // namespace

int cv_command(const Args& args) {
  po::options_description options("cv options");
  CvOptions o;
  add_cv_options(options, o);
  po::positional_options_description positional;
  positional.add("model", 1);
  po::variables_map vm;
  if (!parse(args, "cv MODEL --folds K [--stratified] [--schedule FILE] [--seeds N]", options, positional, vm)) return kExitOk;
  const auto session = open_distributed(vm);
  std::optional<CvPlan> plan;
  if (const int code = agree_on_setup(session.get(), [&] { plan.emplace(plan_cv(vm, o.model, o.schedule, o.folds, o.seeds)); }))
    return code;
  const bool root = !session || session->rank() == 0;
  const std::string& metric = plan->metric;
  if (root) {
    std::printf("%d-fold%s cross-validation of %s on %lld rows, %d seed%s; metric %s\n", o.folds, plan->stratified ? " stratified" : "",
                plan->base.name.c_str(), static_cast<long long>(plan->all.rows()), o.seeds, o.seeds == 1 ? "" : "s", metric.c_str());
    std::printf("%6s %6s %8s %10s\n", "seed", "fold", "rows", metric.c_str());
    std::fflush(stdout);
  }
  std::vector<double> values;
  std::string csv = "seed,fold,rows," + metric + "\n";
  // Task s * folds + f: fold f of seed s, on whichever rank is free; rank 0 prints them in order.
  const auto folds = static_cast<size_t>(o.folds);
  const auto seed_of = [&](size_t task) { return o.first_seed.value + static_cast<uint64_t>(task / folds); };
  const auto fold_of_task = [&](size_t task) { return static_cast<int>(task % folds); };
  share_tasks(
      session ? &session->comm() : nullptr, static_cast<size_t>(o.seeds) * folds,
      [&](size_t task) { return run_fold(*plan, seed_of(task), fold_of_task(task)); },
      [&](size_t task, const std::string& bytes) {
        const auto fields = unpack_fields(bytes);
        const double value = std::stod(fields.at(0));
        const long long rows = std::stoll(fields.at(1));
        values.push_back(value);
        const auto seed = static_cast<unsigned long long>(seed_of(task));
        std::printf("%6llu %6d %8lld %10.4f\n", seed, fold_of_task(task) + 1, rows, value);
        std::fflush(stdout);
        char line[96];
        std::snprintf(line, sizeof line, "%llu,%d,%lld,%.9g\n", seed, fold_of_task(task) + 1, rows, value);
        csv += line;
      });
  if (!root) return kExitOk;
  print_cv_summary(values, o, metric);
  if (!o.output.empty()) write_file_atomically(o.output, csv);
  return kExitOk;
}

}  // namespace anneal::cli
