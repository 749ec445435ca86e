// anneal predict: the model's outputs and, for a classifier, the decoded label of each row. The
// rows are encoded with the checkpoint's data encoding (categories, missing-value fill,
// normalisation), exactly as in training.
#include <algorithm>
#include <cstdio>
#include <fstream>

#include "anneal/atomic_file.hpp"
#include "anneal/classification_report.hpp"
#include "anneal/experiment.hpp"
#include "anneal/metric.hpp"
#include "anneal/predict.hpp"
#include "options.hpp"

namespace anneal::cli {
namespace {

// The input's column count decides its layout: features only, or the spec's layout with labels.
// How to read the input: the spec's data options on another file, its label (and weight)
// columns read past when present.
DataSpec input_layout(const Experiment& ex, const std::string& input) {
  DataSpec in = ex.spec.data ? *ex.spec.data : DataSpec{};
  in.synthetic.reset();
  in.path = input;
  in.validation_path.clear();
  if (input.ends_with(".arff")) in.format = "arff";
  else if (in.format == "arff") in.format = "csv";
  in.ignore_labels = true;
  if (in.format == "arff" || input.ends_with(".gz")) return in;
  const auto raw_features = static_cast<size_t>(ex.encoding.empty() ? ex.graph.input_shape().numel()
                                                                     : static_cast<int64_t>(ex.encoding.columns.size()));
  const size_t extra = (in.label_index || in.label_name ? 1 : 0) + (in.sample_weight ? 1 : 0);
  const auto width = static_cast<size_t>(column_count(in));
  if (width == raw_features) {
    in.label_index.reset();
    in.label_name.reset();
    in.sample_weight.reset();
  } else if (width != raw_features + extra || !ex.spec.data) {
    throw DataError(format_error({input, 0, 0}, "has " + std::to_string(width) + " columns; the model takes " +
                                                    std::to_string(raw_features) + " feature columns (plus, optionally, the spec's label" +
                                                    std::string(in.sample_weight ? " and weight columns)" : " column)")));
  }
  return in;
}

std::string header(const Experiment& ex, const std::vector<std::string>& labels, int64_t outputs) {
  std::string text;
  if (ex.loss->classifies() && outputs == 1) return "probability_" + labels.back() + ",label\n";
  if (ex.loss->classifies() && outputs == static_cast<int64_t>(labels.size())) {
    for (const auto& name : labels) text += "probability_" + name + ",";
    return text + "label\n";
  }
  for (int64_t j = 0; j < outputs; ++j) text += (j ? ",output_" : "output_") + std::to_string(j);
  return text + "\n";
}

}  // namespace

int predict_command(const Args& args) {
  po::options_description options("predict options");
  std::string model, weights, input, output;
  options.add_options()
      ("model", po::value(&model)->required(), "model spec (YAML)")
      ("weights", po::value(&weights)->required(), "checkpoint to read the weights from")
      ("input", po::value(&input)->required(), "CSV/ARFF: the features, or the spec's data layout (labels are ignored)")
      ("output,o", po::value(&output)->required(), "CSV to write: outputs, then the decoded label of a classifier")
      ("set", set_option(), kSetHelp);
  add_threads_option(options, "cores to use: executors side by side over the batches, each with single-threaded products "
                              "(0: OpenBLAS default)");
  po::positional_options_description positional;
  positional.add("model", 1);
  po::variables_map vm;
  if (!parse(args, "predict MODEL --weights CKPT --input FILE.csv -o OUT.csv", options, positional, vm)) return kExitOk;
  apply_threads(vm);

  LoadOptions load = load_options(vm);
  // One read of the checkpoint serves its encoding (needed to build) and its weights.
  const Checkpoint checkpoint = load_checkpoint(weights);
  const FeatureEncoding encoding = checkpoint_encoding(checkpoint, weights);
  Experiment ex = build_experiment(load_model_spec(model, load), false, build_options(vm), &encoding);
  ex.encoding = encoding;
  load_weights(ex, checkpoint, weights);

  const DataSpec in = input_layout(ex, input);
  Dataset rows = ex.encoding.empty() ? read_data(in) : encode(ex.encoding, read_data(in));
  if (rows.feature_width() != ex.graph.input_shape().numel())
    throw DataError(format_error({input, 0, 0}, "gives " + std::to_string(rows.feature_width()) +
                                                    " features per row; the model takes " + std::to_string(ex.graph.input_shape().numel())));
  rows.features.reshape(ex.graph.input_shape());
  const int64_t outputs = ex.graph.output_shape().numel();
  const std::vector<float> y = predict_outputs(ex.graph, ex.weights, rows);
  const std::vector<std::string> labels = class_labels(ex.encoding.class_names, class_count(outputs));

  std::string text = header(ex, labels, outputs);
  char buffer[32];
  for (int64_t r = 0; r < rows.rows(); ++r) {
    const float* row = y.data() + r * outputs;
    for (int64_t j = 0; j < outputs; ++j) {
      std::snprintf(buffer, sizeof buffer, "%.9g", row[j]);
      text += (j ? "," : "") + std::string(buffer);
    }
    if (ex.loss->classifies()) text += "," + labels[static_cast<size_t>(std::min<int64_t>(predicted_class(row, outputs), static_cast<int64_t>(labels.size()) - 1))];
    text += "\n";
  }
  write_file_atomically(output, text);
  return kExitOk;
}

}  // namespace anneal::cli
