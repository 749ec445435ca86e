// anneal evaluate: loss and metrics of saved weights on the spec's data (both splits) or another
// file, and for a classifier the confusion matrix and per-class precision / recall / f1 /
// support. The rows are encoded with the checkpoint's data encoding.
#include <cstdio>
#include <filesystem>

#include "anneal/callbacks.hpp"
#include "anneal/classification_report.hpp"
#include "anneal/experiment.hpp"
#include "options.hpp"

namespace anneal::cli {
namespace {

struct Part {
  std::string name;
  Evaluation evaluation;
  std::optional<ClassificationReport> report;
};

// One forward pass over the rows gives the loss, the metrics and the classifier's report.
Part evaluate_part(const std::string& name, const Dataset& data, Trainer& trainer, const Experiment& ex) {
  std::vector<float> outputs;
  Part part{name, trainer.evaluate(data, &outputs), std::nullopt};
  if (ex.loss->classifies()) part.report = classification_report(outputs, ex.graph.output_shape().numel(), data);
  return part;
}

void print_text(const Part& part, int64_t rows, const Experiment& ex) {
  std::printf("%s: %lld rows - loss: %s", part.name.c_str(), static_cast<long long>(rows), format_metric(part.evaluation.loss).c_str());
  for (size_t m = 0; m < ex.metrics.size(); ++m)
    std::printf(" - %s: %s", ex.metrics[m].name.c_str(), format_metric(part.evaluation.metrics[m]).c_str());
  std::printf("\n");
  if (part.report) std::printf("\n%s\n", part.report->text().c_str());
}

std::string json_part(const Part& part, int64_t rows, const Experiment& ex) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.9g", part.evaluation.loss);
  std::string out = "{\"rows\": " + std::to_string(rows) + ", \"loss\": " + buffer + ", \"metrics\": {";
  for (size_t m = 0; m < ex.metrics.size(); ++m) {
    std::snprintf(buffer, sizeof buffer, "%.9g", part.evaluation.metrics[m]);
    out += (m ? ", \"" : "\"") + ex.metrics[m].name + "\": " + (std::isfinite(part.evaluation.metrics[m]) ? buffer : "null");
  }
  out += "}";
  if (part.report) out += ", \"report\": " + part.report->json();
  return out + "}";
}

}  // namespace

int evaluate_command(const Args& args) {
  po::options_description options("evaluate options");
  std::string model, weights, data, format;
  options.add_options()
      ("model", po::value(&model)->required(), "model spec (YAML)")
      ("weights", po::value(&weights)->required(), "checkpoint to read the weights from")
      ("data", po::value(&data), "CSV/ARFF in the spec's data layout (default: the spec's data, both splits)")
      ("format", po::value(&format)->default_value("text"), "text or json")
      ("set", set_option(), kSetHelp);
  po::positional_options_description positional;
  positional.add("model", 1);
  po::variables_map vm;
  if (!parse(args, "evaluate MODEL --weights CKPT [--data FILE] [--format text|json]", options, positional, vm)) return kExitOk;
  if (format != "text" && format != "json") throw UsageError("--format must be text or json, got '" + format + "'");

  LoadOptions load = load_options(vm);
  ModelSpec spec = load_model_spec(model, load);
  if (!data.empty()) {
    if (!spec.data) throw SpecError(SourceLocation{model, 0, 0}, "--data needs the spec's data: section (for its layout)");
    spec.data->synthetic.reset();
    spec.data->path = std::filesystem::absolute(data).string();
    if (data.ends_with(".arff")) spec.data->format = "arff";
    spec.data->validation_path.clear();
    spec.train.validation_split = 0;
  }
  if (!spec.data) throw SpecError(SourceLocation{model, 0, 0}, "the model spec has no data to evaluate on (use --data)");
  // One read of the checkpoint serves its encoding (needed to build) and its weights.
  const Checkpoint checkpoint = load_checkpoint(weights);
  const FeatureEncoding encoding = checkpoint_encoding(checkpoint, weights);
  Experiment ex = build_experiment(std::move(spec), true, build_options(vm), &encoding);
  load_weights(ex, checkpoint, weights);
  Trainer trainer(ex.graph, ex.weights, *ex.loss, ex.metrics, *ex.optimizer, {1, ex.spec.train.batch_size, false, 0});
  std::vector<std::pair<Part, int64_t>> parts;
  if (!data.empty()) {
    parts.emplace_back(evaluate_part(data, *ex.train, trainer, ex), ex.train->rows());
  } else {
    parts.emplace_back(evaluate_part("training rows", *ex.train, trainer, ex), ex.train->rows());
    if (ex.validation) parts.emplace_back(evaluate_part("validation rows", *ex.validation, trainer, ex), ex.validation->rows());
  }
  if (format == "json") {
    std::string out = "{";
    for (size_t i = 0; i < parts.size(); ++i) {
      const std::string key = !data.empty() ? "data" : i == 0 ? "train" : "validation";
      out += (i ? ", \"" : "\"") + key + "\": " + json_part(parts[i].first, parts[i].second, ex);
    }
    std::printf("%s}\n", out.c_str());
  } else {
    for (const auto& [part, rows] : parts) print_text(part, rows, ex);
  }
  return kExitOk;
}

}  // namespace anneal::cli
