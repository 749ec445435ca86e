#include "anneal/data.hpp"

#include <algorithm>

#include "anneal/errors.hpp"
#include "anneal/rng.hpp"
#include "readers/table.hpp"

namespace anneal {

Dataset make_synthetic(const DataSpec& spec) {
  const SyntheticSpec& s = *spec.synthetic;
  const Shape shape(s.shape);
  const int64_t features = shape.numel();
  Rng rng(s.seed, 5);
  // A fixed random linear teacher makes the labels learnable.
  std::vector<float> teacher(static_cast<size_t>(features * s.classes));
  for (auto& w : teacher) w = static_cast<float>(rng.normal());
  Dataset data;
  data.source = "synthetic";
  data.features = Tensor(s.rows, shape);
  for (auto& x : data.features.values()) x = static_cast<float>(rng.normal());
  std::vector<float> labels(static_cast<size_t>(s.rows));
  for (int64_t r = 0; r < s.rows; ++r) {
    const float* x = data.features.row(r);
    int64_t best = 0;
    double best_score = -1e300;
    for (int64_t c = 0; c < s.classes; ++c) {
      double score = 0;
      for (int64_t j = 0; j < features; ++j) score += static_cast<double>(x[j]) * teacher[static_cast<size_t>(j * s.classes + c)];
      if (score > best_score) {
        best_score = score;
        best = c;
      }
    }
    labels[static_cast<size_t>(r)] = static_cast<float>(best);
  }
  data.targets = Tensor(s.rows, Shape{1});
  data.targets.values() = labels;
  data.label_classes = s.classes;
  return data;
}

Dataset read_csv(const DataSpec& spec) { return readers::decode_table(readers::read_csv_table(spec), spec); }
Dataset read_arff(const DataSpec& spec) { return readers::decode_table(readers::read_arff_table(spec), spec); }
int64_t column_count(const DataSpec& spec) {
  const readers::Table head = spec.format == "arff" ? readers::read_arff_table(spec, 1) : readers::read_csv_table(spec, 1);
  return static_cast<int64_t>(head.columns.size());
}

Dataset read_data(const DataSpec& spec) {
  if (spec.synthetic) return make_synthetic(spec);
  return spec.format == "arff" ? read_arff(spec) : read_csv(spec);
}

std::string Dataset::where(int64_t row) const {
  const int line = row < static_cast<int64_t>(lines.size()) ? lines[static_cast<size_t>(row)] : 0;
  return line > 0 ? source + ":" + std::to_string(line) : source + ": row " + std::to_string(row + 1);
}

Dataset subset(const Dataset& data, const std::vector<int64_t>& rows) {
  Dataset out;
  out.source = data.source;
  out.class_names = data.class_names;
  out.label_classes = data.label_classes;
  out.columns = data.columns;
  const auto n = static_cast<int64_t>(rows.size());
  out.features = Tensor(n, data.features.sample_shape());
  out.targets = Tensor(n, data.targets.sample_shape());
  const int64_t fw = data.features.sample_shape().numel(), tw = data.targets.sample_shape().numel();
  for (int64_t i = 0; i < n; ++i) {
    const int64_t r = rows[static_cast<size_t>(i)];
    std::copy(data.features.row(r), data.features.row(r) + fw, out.features.row(i));
    std::copy(data.targets.row(r), data.targets.row(r) + tw, out.targets.row(i));
    if (!data.sample_weights.empty()) out.sample_weights.push_back(data.sample_weights[static_cast<size_t>(r)]);
    if (!data.lines.empty()) out.lines.push_back(data.lines[static_cast<size_t>(r)]);
  }
  return out;
}

Dataset take_rows(const Dataset& data, int64_t begin, int64_t end) {
  std::vector<int64_t> rows(static_cast<size_t>(end - begin));
  for (int64_t i = begin; i < end; ++i) rows[static_cast<size_t>(i - begin)] = i;
  return subset(data, rows);
}

void align_labels(Dataset& data, const std::vector<std::string>& class_names) {
  if (data.class_names == class_names) return;
  if (class_names.empty() || data.class_names.empty())
    throw DataError(data.source + ": its labels are " + (data.class_names.empty() ? "numbers" : "names") +
                    ", the training file's are " + (class_names.empty() ? "numbers" : "names"));
  std::vector<float> to(data.class_names.size(), -1.0f);
  for (size_t i = 0; i < data.class_names.size(); ++i) {
    const auto it = std::find(class_names.begin(), class_names.end(), data.class_names[i]);
    if (it != class_names.end()) to[i] = static_cast<float>(it - class_names.begin());
  }
  for (int64_t r = 0; r < data.rows(); ++r) {
    float& t = data.targets[static_cast<size_t>(r)];
    const float mapped = to[static_cast<size_t>(t)];
    if (mapped < 0)
      throw DataError(data.where(r) + ": error: the class '" + data.class_names[static_cast<size_t>(t)] +
                      "' does not occur in the training data");
    t = mapped;
  }
  data.class_names = class_names;
  data.label_classes = static_cast<int64_t>(class_names.size());
}

SplitData split_validation(const Dataset& data, double fraction) {
  const auto split_at = static_cast<int64_t>(static_cast<double>(data.rows()) * (1.0 - fraction));
  if (fraction > 0 && (split_at <= 0 || split_at >= data.rows()))
    throw DataError("validation_split " + std::to_string(fraction) + " leaves an empty side of " +
                    std::to_string(data.rows()) + " rows");
  return {take_rows(data, 0, split_at), take_rows(data, split_at, data.rows())};
}

}  // namespace anneal
