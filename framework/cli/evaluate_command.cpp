// anneal evaluate: loss and metrics of saved weights, on the spec's data or another file.
#include <cstdio>
#include <filesystem>

#include "anneal/callbacks.hpp"
#include "anneal/experiment.hpp"
#include "options.hpp"

namespace anneal::cli {
namespace {

void report(const char* what, const Dataset& data, Trainer& trainer, const Experiment& ex) {
  const Evaluation e = trainer.evaluate(data);
  std::printf("%s: %lld rows - loss: %s", what, static_cast<long long>(data.rows()), format_metric(e.loss).c_str());
  for (size_t m = 0; m < ex.metrics.size(); ++m)
    std::printf(" - %s: %s", ex.metrics[m].name.c_str(), format_metric(e.metrics[m]).c_str());
  std::printf("\n");
}

}  // namespace

int evaluate_command(const Args& args) {
  po::options_description options("evaluate options");
  std::string model, weights, data;
  std::vector<std::string> sets;
  options.add_options()
      ("model", po::value(&model)->required(), "model spec (YAML)")
      ("weights", po::value(&weights)->required(), "checkpoint to read the weights from")
      ("data", po::value(&data), "CSV in the spec's data layout (default: the spec's data, both splits)")
      ("set", po::value(&sets)->composing(), "override a spec field: dotted.key=value (repeatable)");
  po::positional_options_description positional;
  positional.add("model", 1);
  po::variables_map vm;
  if (!parse(args, "evaluate MODEL --weights CKPT [--data FILE.csv]", options, positional, vm)) return kExitOk;

  LoadOptions load = load_options(vm);
  load.sets = sets;
  ModelSpec spec = load_model_spec(model, load);
  if (!data.empty()) {
    if (!spec.data) throw SpecError(SourceLocation{model, 0, 0}, "--data needs the spec's data: section (for its layout)");
    spec.data->synthetic.reset();
    spec.data->path = std::filesystem::absolute(data).string();
    spec.train.validation_split = 0;
  }
  if (!spec.data) throw SpecError(SourceLocation{model, 0, 0}, "the model spec has no data to evaluate on (use --data)");
  Experiment ex = build_experiment(std::move(spec), true, memory_limit(vm));
  load_weights(ex, weights);
  Trainer trainer(ex.graph, ex.weights, *ex.loss, ex.metrics, *ex.optimizer, {1, ex.spec.train.batch_size, false, 0});
  if (!data.empty()) {
    report(data.c_str(), *ex.train, trainer, ex);
  } else {
    report("training rows", *ex.train, trainer, ex);
    if (ex.validation) report("validation rows", *ex.validation, trainer, ex);
  }
  return kExitOk;
}

}  // namespace anneal::cli
