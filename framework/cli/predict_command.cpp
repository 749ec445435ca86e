// anneal predict: the model's outputs and decoded class labels for each row of a CSV.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "anneal/atomic_file.hpp"
#include "anneal/experiment.hpp"
#include "options.hpp"

namespace anneal::cli {
namespace {

// The input's column count decides its layout: features only, or the spec's layout with labels.
size_t first_row_width(const DataSpec& spec) {
  std::ifstream in(spec.path);
  if (!in) throw InputError(format_error({spec.path, 0, 0}, "cannot open input file"));
  std::string line;
  for (int skipped = 0; std::getline(in, line);) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    if (spec.header && skipped++ == 0) continue;
    return static_cast<size_t>(std::count(line.begin(), line.end(), spec.delimiter)) + 1;
  }
  return 0;
}

}  // namespace

int predict_command(const Args& args) {
  po::options_description options("predict options");
  std::string model, weights, input, output;
  std::vector<std::string> sets;
  options.add_options()
      ("model", po::value(&model)->required(), "model spec (YAML)")
      ("weights", po::value(&weights)->required(), "checkpoint to read the weights from")
      ("input", po::value(&input)->required(), "CSV: the features, or the spec's data layout (labels are ignored)")
      ("output,o", po::value(&output)->required(), "CSV to write: outputs, then the decoded label")
      ("set", po::value(&sets)->composing(), "override a spec field: dotted.key=value (repeatable)");
  po::positional_options_description positional;
  positional.add("model", 1);
  po::variables_map vm;
  if (!parse(args, "predict MODEL --weights CKPT --input FILE.csv -o OUT.csv", options, positional, vm)) return kExitOk;

  LoadOptions load = load_options(vm);
  load.sets = sets;
  Experiment ex = build_experiment(load_model_spec(model, load), true, memory_limit(vm));
  load_weights(ex, weights);
  const std::vector<std::string> class_names = ex.train ? ex.train->class_names : std::vector<std::string>{};

  DataSpec in = ex.spec.data ? *ex.spec.data : DataSpec{};
  in.path = input;
  in.one_hot = false;
  const int64_t features = ex.graph.input_shape().numel();
  const size_t width = first_row_width(in);
  if (width == static_cast<size_t>(features)) {
    in.label_index.reset();
    in.label_name.reset();
  } else if (width != static_cast<size_t>(features) + 1 || !ex.spec.data) {
    throw DataError(format_error({input, 0, 0}, "has " + std::to_string(width) + " columns; the model takes " +
                                                    std::to_string(features) + " features (plus, optionally, the label column)"));
  }
  Dataset rows = read_csv(in);
  rows.features.reshape(ex.graph.input_shape());

  Executor executor(ex.graph, ex.weights, 0, ExecutorMode::kInference);
  const int64_t outputs = ex.graph.output_shape().numel(), batch = ex.graph.max_batch();
  const int64_t fw = rows.features.sample_shape().numel();
  std::string text;
  // Header: one probability per class when there are class names, else the raw outputs.
  if (!class_names.empty() && outputs == 1) text = "probability_" + class_names.back() + ",label\n";
  else if (!class_names.empty() && outputs == static_cast<int64_t>(class_names.size())) {
    for (const auto& name : class_names) text += "probability_" + name + ",";
    text += "label\n";
  } else {
    for (int64_t j = 0; j < outputs; ++j) text += (j ? ",output_" : "output_") + std::to_string(j);
    text += "\n";
  }
  char buffer[32];
  for (int64_t begin = 0; begin < rows.rows(); begin += batch) {
    const int64_t count = std::min(batch, rows.rows() - begin);
    std::copy(rows.features.row(begin), rows.features.row(begin) + count * fw, executor.input());
    executor.forward(count, false);
    for (int64_t r = 0; r < count; ++r) {
      const float* y = executor.output() + r * outputs;
      for (int64_t j = 0; j < outputs; ++j) {
        std::snprintf(buffer, sizeof buffer, "%.7g", y[j]);
        text += (j ? "," : "") + std::string(buffer);
      }
      if (!class_names.empty() && (outputs == 1 || outputs == static_cast<int64_t>(class_names.size()))) {
        const size_t cls = outputs == 1 ? (y[0] > 0.5f ? 1 : 0) : static_cast<size_t>(std::max_element(y, y + outputs) - y);
        text += "," + class_names[std::min(cls, class_names.size() - 1)];
      }
      text += "\n";
    }
  }
  write_file_atomically(output, text);
  return kExitOk;
}

}  // namespace anneal::cli
