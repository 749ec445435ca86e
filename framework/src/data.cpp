#include "anneal/data.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <fstream>
#include <map>

#include "anneal/file_checks.hpp"
#include "anneal/rng.hpp"

namespace anneal {
namespace {

struct Cell {
  std::string text;
  int column = 0;  // 1-based character column where the cell starts
};

std::vector<Cell> split_line(const std::string& line, char delimiter) {
  std::vector<Cell> cells;
  size_t start = 0;
  for (;;) {
    const size_t end = line.find(delimiter, start);
    std::string text = line.substr(start, end == std::string::npos ? std::string::npos : end - start);
    size_t first = text.find_first_not_of(" \t\r");
    const size_t last = text.find_last_not_of(" \t\r");
    text = first == std::string::npos ? "" : text.substr(first, last - first + 1);
    cells.push_back({text, static_cast<int>(start + (first == std::string::npos ? 0 : first)) + 1});
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return cells;
}

bool parse_float(const std::string& text, float& out) {
  const char* begin = text.data();
  const char* end = begin + text.size();
  if (begin != end && *begin == '+') ++begin;
  auto [ptr, ec] = std::from_chars(begin, end, out);
  return ec == std::errc() && ptr == end && begin != end && std::isfinite(out);
}

}  // namespace

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
  if (spec.one_hot) {
    data.targets = Tensor(s.rows, Shape{s.classes});
    for (int64_t r = 0; r < s.rows; ++r) data.targets.row(r)[static_cast<int64_t>(labels[static_cast<size_t>(r)])] = 1.0f;
  } else {
    data.targets = Tensor(s.rows, Shape{1});
    data.targets.values() = labels;
  }
  return data;
}

Dataset read_csv(const DataSpec& spec) {
  if (const auto problem = regular_file_problem(spec.path); !problem.empty())
    throw SpecError(spec.path_location, "data file '" + spec.path + "' " + problem);
  std::ifstream in(spec.path);
  if (!in) throw SpecError(spec.path_location, "data file '" + spec.path + "' cannot be opened");

  std::vector<std::string> names;
  std::vector<std::vector<Cell>> rows;
  std::vector<int> row_lines;
  std::string line;
  int line_number = 0;
  size_t width = 0;
  while (std::getline(in, line)) {
    ++line_number;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    auto cells = split_line(line, spec.delimiter);
    if (width == 0) width = cells.size();
    if (cells.size() != width)
      throw DataError(format_error({spec.path, line_number, 0},
                                   "expected " + std::to_string(width) + " columns, got " +
                                       std::to_string(cells.size())));
    if (spec.header && names.empty()) {
      for (auto& c : cells) names.push_back(c.text);
      continue;
    }
    rows.push_back(std::move(cells));
    row_lines.push_back(line_number);
  }
  if (rows.empty()) throw DataError(format_error({spec.path, 0, 0}, "no data rows"));
  if (width < 2 && (spec.label_index || spec.label_name))
    throw DataError(format_error({spec.path, row_lines[0], 0}, "need at least one feature column and a label column"));

  const bool has_label = spec.label_index || spec.label_name;
  int64_t label = -1;
  if (!has_label) {
    // Features only (prediction input).
  } else if (spec.label_name) {
    auto it = std::find(names.begin(), names.end(), *spec.label_name);
    if (it == names.end()) {
      std::string known;
      for (size_t i = 0; i < names.size(); ++i) known += (i ? ", " : "") + names[i];
      throw SpecError(spec.label_location, "label column '" + *spec.label_name + "' is not in the header of " +
                                               spec.path + " (columns: " + known + ")");
    }
    label = it - names.begin();
  } else {
    label = *spec.label_index < 0 ? static_cast<int64_t>(width) + *spec.label_index : *spec.label_index;
    if (label < 0 || label >= static_cast<int64_t>(width))
      throw SpecError(spec.label_location, "label column " + std::to_string(*spec.label_index) +
                                               " is outside the " + std::to_string(width) + " columns of " + spec.path);
  }

  const auto features = static_cast<int64_t>(width) - (has_label ? 1 : 0);
  const auto n = static_cast<int64_t>(rows.size());
  Dataset data;
  data.source = spec.path;
  data.features = Tensor(n, Shape{features});
  std::vector<std::string> labels(static_cast<size_t>(n));
  bool numeric_labels = true;
  std::vector<float> numeric(static_cast<size_t>(n));
  for (int64_t r = 0; r < n; ++r) {
    float* out = data.features.row(r);
    const auto& cells = rows[static_cast<size_t>(r)];
    for (int64_t c = 0, f = 0; c < static_cast<int64_t>(width); ++c) {
      const Cell& cell = cells[static_cast<size_t>(c)];
      if (c == label) {
        labels[static_cast<size_t>(r)] = cell.text;
        numeric_labels = numeric_labels && parse_float(cell.text, numeric[static_cast<size_t>(r)]);
        continue;
      }
      if (!parse_float(cell.text, out[f++])) {
        const std::string column = names.empty() ? "column " + std::to_string(c + 1)
                                                 : "column " + std::to_string(c + 1) + " ('" + names[static_cast<size_t>(c)] + "')";
        throw DataError(format_error({spec.path, row_lines[static_cast<size_t>(r)], cell.column},
                                     column + ": expected a number, got '" + cell.text + "'"));
      }
    }
  }

  if (!has_label) {
    data.targets = Tensor(n, Shape{0});
    return data;
  }
  std::vector<float> encoded(static_cast<size_t>(n));
  int64_t classes = 0;
  if (numeric_labels) {
    encoded = numeric;
    if (spec.one_hot) {
      for (int64_t r = 0; r < n; ++r) {
        const float v = numeric[static_cast<size_t>(r)];
        if (v < 0 || v != std::floor(v))
          throw DataError(format_error({spec.path, row_lines[static_cast<size_t>(r)], 0},
                                       "one_hot needs class labels that are names or non-negative integers, got '" +
                                           labels[static_cast<size_t>(r)] + "'"));
        classes = std::max<int64_t>(classes, static_cast<int64_t>(v) + 1);
      }
    }
  } else {
    // Sorted order, like scikit-learn's LabelEncoder: b -> 0, g -> 1.
    std::map<std::string, int> index;
    for (const auto& l : labels) index.emplace(l, 0);
    for (auto& [name, i] : index) {
      i = static_cast<int>(data.class_names.size());
      data.class_names.push_back(name);
    }
    for (int64_t r = 0; r < n; ++r) encoded[static_cast<size_t>(r)] = static_cast<float>(index[labels[static_cast<size_t>(r)]]);
    classes = static_cast<int64_t>(data.class_names.size());
  }

  if (spec.one_hot) {
    data.targets = Tensor(n, Shape{classes});
    for (int64_t r = 0; r < n; ++r) data.targets.row(r)[static_cast<int64_t>(encoded[static_cast<size_t>(r)])] = 1.0f;
  } else {
    data.targets = Tensor(n, Shape{1});
    for (int64_t r = 0; r < n; ++r) data.targets[static_cast<size_t>(r)] = encoded[static_cast<size_t>(r)];
  }
  return data;
}

Dataset take_rows(const Dataset& data, int64_t begin, int64_t end) {
  Dataset out;
  out.source = data.source;
  out.class_names = data.class_names;
  out.features = Tensor(end - begin, data.features.sample_shape());
  out.targets = Tensor(end - begin, data.targets.sample_shape());
  const int64_t fw = data.features.sample_shape().numel(), tw = data.targets.sample_shape().numel();
  std::copy(data.features.row(begin), data.features.row(begin) + (end - begin) * fw, out.features.data());
  std::copy(data.targets.row(begin), data.targets.row(begin) + (end - begin) * tw, out.targets.data());
  return out;
}

SplitData split_validation(const Dataset& data, double fraction) {
  const auto split_at = static_cast<int64_t>(static_cast<double>(data.rows()) * (1.0 - fraction));
  if (fraction > 0 && (split_at <= 0 || split_at >= data.rows()))
    throw DataError("validation_split " + std::to_string(fraction) + " leaves an empty side of " +
                    std::to_string(data.rows()) + " rows");
  return {take_rows(data, 0, split_at), take_rows(data, split_at, data.rows())};
}

}  // namespace anneal
