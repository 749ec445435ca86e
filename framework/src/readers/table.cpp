// Decoding a table into raw rows, the same for every format: which column is the label and which
// are categorical, what a missing cell becomes, numbers parsed strictly, labels encoded.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <map>
#include <set>

#include "anneal/errors.hpp"
#include "table.hpp"

namespace anneal::readers {
namespace {

constexpr float kMissing = std::numeric_limits<float>::quiet_NaN();

bool parse_float(const std::string& text, float& out) {
  const char* begin = text.data();
  const char* end = begin + text.size();
  if (begin != end && *begin == '+') ++begin;
  auto [ptr, ec] = std::from_chars(begin, end, out);
  return ec == std::errc() && ptr == end && begin != end && std::isfinite(out);
}

bool is_missing(const Cell& cell) {
  return !cell.quoted && (cell.text.empty() || cell.text == "?" || cell.text == "NA");
}

std::string column_label(const Table& t, size_t c) {
  const std::string& name = t.columns[c].name;
  return "column " + std::to_string(c + 1) + (name.empty() ? "" : " ('" + name + "')");
}

// A column named in the spec, as a 0-based index into the table.
size_t resolve(const Table& t, const ColumnRef& ref, const std::string& what) {
  const auto width = static_cast<int64_t>(t.columns.size());
  if (ref.name) {
    for (size_t c = 0; c < t.columns.size(); ++c)
      if (t.columns[c].name == *ref.name) return c;
    std::string known;
    for (size_t c = 0; c < t.columns.size(); ++c) known += (c ? ", " : "") + t.columns[c].name;
    throw SpecError(ref.location, what + " column '" + *ref.name + "' is not in the header of " + t.source + " (columns: " + known + ")");
  }
  const int64_t index = *ref.index < 0 ? width + *ref.index : *ref.index;
  if (index < 0 || index >= width)
    throw SpecError(ref.location, what + " column " + std::to_string(*ref.index) + " is outside the " + std::to_string(width) +
                                      " columns of " + t.source);
  return static_cast<size_t>(index);
}

struct Roles {
  int64_t label = -1, weight = -1;
  std::vector<bool> categorical;
  std::vector<bool> skipped;  // neither feature nor label (predict's label and weight columns)
};

Roles column_roles(const Table& t, const DataSpec& spec) {
  Roles roles;
  roles.categorical.assign(t.columns.size(), false);
  for (size_t c = 0; c < t.columns.size(); ++c) roles.categorical[c] = t.columns[c].nominal;
  if (spec.label_index || spec.label_name) {
    ColumnRef ref{spec.label_index, spec.label_name, spec.label_location};
    roles.label = static_cast<int64_t>(resolve(t, ref, "label"));
  }
  for (const auto& ref : spec.categorical) {
    const size_t c = resolve(t, ref, "categorical");
    if (static_cast<int64_t>(c) == roles.label)
      throw SpecError(ref.location, "column " + std::to_string(c + 1) + " is the label; string labels need no categorical: entry");
    roles.categorical[c] = true;
  }
  if (spec.sample_weight) {
    roles.weight = static_cast<int64_t>(resolve(t, *spec.sample_weight, "sample_weight"));
    if (roles.weight == roles.label) throw SpecError(spec.sample_weight->location, "sample_weight cannot be the label column");
  }
  const size_t needed = 1 + (roles.label >= 0) + (roles.weight >= 0);
  if (t.columns.size() < needed)
    throw DataError(format_error({t.source, t.lines.empty() ? 0 : t.lines[0], 0},
                                 "need at least one feature column besides the label" + std::string(roles.weight >= 0 ? " and weight" : "")));
  roles.skipped.assign(t.columns.size(), false);
  if (spec.ignore_labels) {
    for (int64_t c : {roles.label, roles.weight})
      if (c >= 0) roles.skipped[static_cast<size_t>(c)] = true;
    roles.label = roles.weight = -1;
  }
  return roles;
}

// missing: drop_row removes every row with a missing cell; otherwise a missing label or weight is
// an error here and a missing feature is one in decode_features.
void drop_missing(Table& t, const Roles& roles, const DataSpec& spec) {
  size_t kept = 0;
  for (size_t r = 0; r < t.rows.size(); ++r) {
    bool drop = false;
    for (size_t c = 0; c < t.columns.size(); ++c) {
      if (roles.skipped[c] || !is_missing(t.rows[r][c])) continue;
      if (spec.missing == "drop_row") {
        drop = true;
        break;
      }
      if (static_cast<int64_t>(c) == roles.label || static_cast<int64_t>(c) == roles.weight)
        throw DataError(format_error({t.source, t.lines[r], t.rows[r][c].column},
                                     column_label(t, c) + ": the " + (static_cast<int64_t>(c) == roles.label ? "label" : "sample weight") +
                                         " is missing (with missing: drop_row such rows are left out)"));
    }
    if (drop) continue;
    if (kept != r) {
      t.rows[kept] = std::move(t.rows[r]);
      t.lines[kept] = t.lines[r];
    }
    ++kept;
  }
  t.rows.resize(kept);
  t.lines.resize(kept);
  if (t.rows.empty()) throw DataError(format_error({t.source, 0, 0}, spec.missing == "drop_row" ? "no data rows left after missing: drop_row" : "no data rows"));
}

// The dictionary of a categorical column: declared values (ARFF nominal), else the distinct
// values in sorted order.
std::vector<std::string> dictionary(const Table& t, size_t c) {
  if (!t.columns[c].declared.empty()) return t.columns[c].declared;
  std::set<std::string> seen;
  for (const auto& row : t.rows)
    if (!is_missing(row[c])) seen.insert(row[c].text);
  return {seen.begin(), seen.end()};
}

void decode_features(const Table& t, const Roles& roles, const DataSpec& spec, Dataset& data) {
  std::vector<size_t> feature_columns;
  for (size_t c = 0; c < t.columns.size(); ++c)
    if (static_cast<int64_t>(c) != roles.label && static_cast<int64_t>(c) != roles.weight && !roles.skipped[c])
      feature_columns.push_back(c);
  std::vector<std::map<std::string, int>> index(feature_columns.size());
  for (size_t f = 0; f < feature_columns.size(); ++f) {
    const size_t c = feature_columns[f];
    RawColumn column;
    column.name = t.columns[c].name.empty() ? "column " + std::to_string(c + 1) : t.columns[c].name;
    column.categorical = roles.categorical[c];
    if (column.categorical) {
      column.categories = dictionary(t, c);
      column.declared = !t.columns[c].declared.empty();
      for (size_t i = 0; i < column.categories.size(); ++i) index[f].emplace(column.categories[i], static_cast<int>(i));
    }
    data.columns.push_back(std::move(column));
  }
  const auto n = static_cast<int64_t>(t.rows.size());
  data.features = Tensor(n, Shape{static_cast<int64_t>(feature_columns.size())});
  for (int64_t r = 0; r < n; ++r) {
    float* out = data.features.row(r);
    const auto& row = t.rows[static_cast<size_t>(r)];
    for (size_t f = 0; f < feature_columns.size(); ++f) {
      const size_t c = feature_columns[f];
      const Cell& cell = row[c];
      const SourceLocation where{t.source, t.lines[static_cast<size_t>(r)], cell.column};
      if (is_missing(cell)) {
        if (spec.missing == "error")
          throw DataError(format_error(where, column_label(t, c) + ": missing value ('" + cell.text +
                                                  "'); choose missing: mean, zero or drop_row in data: to accept them"));
        out[f] = kMissing;
      } else if (roles.categorical[c]) {
        const auto it = index[f].find(cell.text);
        if (it == index[f].end())
          throw DataError(format_error(where, column_label(t, c) + ": '" + cell.text + "' is not one of the attribute's declared values"));
        out[f] = static_cast<float>(it->second);
      } else if (!parse_float(cell.text, out[f])) {
        throw DataError(format_error(where, column_label(t, c) + ": expected a number, got '" + cell.text +
                                                "' (a column of categories needs categorical: [" +
                                                (t.columns[c].name.empty() ? std::to_string(c) : t.columns[c].name) + "] in data:)"));
      }
    }
  }
}

void decode_labels(const Table& t, const Roles& roles, Dataset& data) {
  const auto n = static_cast<int64_t>(t.rows.size());
  if (roles.label < 0) {
    data.targets = Tensor(n, Shape{0});
    return;
  }
  const auto label = static_cast<size_t>(roles.label);
  data.targets = Tensor(n, Shape{1});
  const TableColumn& column = t.columns[label];
  bool numeric = !column.nominal;
  for (int64_t r = 0; numeric && r < n; ++r) numeric = parse_float(t.rows[static_cast<size_t>(r)][label].text, data.targets[static_cast<size_t>(r)]);
  if (numeric) {
    bool classes = true;
    float largest = 0;
    for (float v : data.targets.values()) {
      classes = classes && v >= 0 && v == std::floor(v) && v < 1e7f;
      largest = std::max(largest, v);
    }
    data.label_classes = classes ? static_cast<int64_t>(largest) + 1 : 0;
    return;
  }
  // Declared order for a nominal class, sorted order otherwise (scikit-learn's LabelEncoder).
  data.class_names = column.declared.empty() ? dictionary(t, label) : column.declared;
  std::map<std::string, int> index;
  for (size_t i = 0; i < data.class_names.size(); ++i) index.emplace(data.class_names[i], static_cast<int>(i));
  for (int64_t r = 0; r < n; ++r) {
    const Cell& cell = t.rows[static_cast<size_t>(r)][label];
    const auto it = index.find(cell.text);
    if (it == index.end())
      throw DataError(format_error({t.source, t.lines[static_cast<size_t>(r)], cell.column},
                                   column_label(t, label) + ": the class '" + cell.text + "' is not one of the attribute's declared values"));
    data.targets[static_cast<size_t>(r)] = static_cast<float>(it->second);
  }
  data.label_classes = static_cast<int64_t>(data.class_names.size());
}

void decode_weights(const Table& t, const Roles& roles, Dataset& data) {
  if (roles.weight < 0) return;
  const auto c = static_cast<size_t>(roles.weight);
  data.sample_weights.resize(t.rows.size());
  for (size_t r = 0; r < t.rows.size(); ++r) {
    const Cell& cell = t.rows[r][c];
    float w = 0;
    if (!parse_float(cell.text, w) || w < 0)
      throw DataError(format_error({t.source, t.lines[r], cell.column},
                                   column_label(t, c) + ": a sample weight must be a number >= 0, got '" + cell.text + "'"));
    data.sample_weights[r] = w;
  }
}

}  // namespace

Dataset decode_table(Table table, const DataSpec& spec) {
  if (table.rows.empty()) throw DataError(format_error({table.source, 0, 0}, "no data rows"));
  const Roles roles = column_roles(table, spec);
  drop_missing(table, roles, spec);
  Dataset data;
  data.source = table.source;
  data.lines = table.lines;
  decode_features(table, roles, spec, data);
  decode_labels(table, roles, data);
  decode_weights(table, roles, data);
  return data;
}

}  // namespace anneal::readers
