#include "anneal/encoding.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "anneal/errors.hpp"

namespace anneal {
namespace {

// Raw data without column descriptions (synthetic rows): every value is a numeric column.
std::vector<RawColumn> raw_columns(const Dataset& raw) {
  if (!raw.columns.empty()) return raw.columns;
  std::vector<RawColumn> out(static_cast<size_t>(raw.features.sample_shape().numel()));
  for (size_t c = 0; c < out.size(); ++c) out[c].name = "feature " + std::to_string(c + 1);
  return out;
}

// For each raw dictionary index of a categorical column, its encoded position (-1: unknown).
std::vector<int64_t> category_map(const RawColumn& raw, const ColumnEncoding& enc) {
  std::map<std::string, int64_t> position;
  for (size_t i = 0; i < enc.categories.size(); ++i) position.emplace(enc.categories[i], static_cast<int64_t>(i));
  std::vector<int64_t> out(raw.categories.size(), -1);
  for (size_t i = 0; i < raw.categories.size(); ++i)
    if (auto it = position.find(raw.categories[i]); it != position.end()) out[i] = it->second;
  return out;
}

void fit_columns(const Dataset& raw, const DataSpec& spec, FeatureEncoding& enc) {
  const auto columns = raw_columns(raw);
  const int64_t n = raw.rows(), width = static_cast<int64_t>(columns.size());
  for (int64_t c = 0; c < width; ++c) {
    const RawColumn& column = columns[static_cast<size_t>(c)];
    ColumnEncoding e;
    e.name = column.name;
    e.categorical = column.categorical;
    if (column.categorical) {
      if (column.declared) {
        e.categories = column.categories;
      } else {
        std::set<std::string> seen;
        for (int64_t r = 0; r < n; ++r) {
          const float v = raw.features.row(r)[c];
          if (!std::isnan(v)) seen.insert(column.categories[static_cast<size_t>(v)]);
        }
        e.categories.assign(seen.begin(), seen.end());
      }
    } else if (spec.missing == "mean") {
      double sum = 0;
      int64_t count = 0;
      for (int64_t r = 0; r < n; ++r)
        if (const float v = raw.features.row(r)[c]; !std::isnan(v)) sum += v, ++count;
      e.fill = count ? static_cast<float>(sum / static_cast<double>(count)) : 0.0f;
    }
    enc.columns.push_back(std::move(e));
  }
}

// The raw columns checked against the encoding's, with each categorical column's map from raw
// category index to its position in the one-hot block.
struct ColumnMaps {
  std::vector<RawColumn> columns;
  std::vector<std::vector<int64_t>> maps;
};

ColumnMaps column_maps(const FeatureEncoding& enc, const Dataset& raw) {
  ColumnMaps out{raw_columns(raw), {}};
  const auto& columns = out.columns;
  if (columns.size() != enc.columns.size())
    throw DataError(raw.source + ": has " + std::to_string(columns.size()) + " feature columns, the model was trained on " +
                    std::to_string(enc.columns.size()));
  out.maps.resize(columns.size());
  for (size_t c = 0; c < columns.size(); ++c) {
    if (columns[c].categorical != enc.columns[c].categorical)
      throw DataError(raw.source + ": column '" + columns[c].name + "' is " + (columns[c].categorical ? "categorical" : "numeric") +
                      " here but was " + (enc.columns[c].categorical ? "categorical" : "numeric") + " in training");
    if (columns[c].categorical) out.maps[c] = category_map(columns[c], enc.columns[c]);
  }
  return out;
}

// Row r's encoded features into x, which may be the raw row itself when no column is categorical:
// column c is read before feature c is written, and the scaling reads only x.
void encode_row(const FeatureEncoding& enc, const Dataset& raw, const ColumnMaps& m, int64_t r, float* x) {
  const float* in = raw.features.row(r);
  int64_t at = 0;
  for (size_t c = 0; c < m.columns.size(); ++c) {
    const ColumnEncoding& e = enc.columns[c];
    const float v = in[c];
    if (!e.categorical) {
      x[at++] = std::isnan(v) ? e.fill : v;
      continue;
    }
    if (!std::isnan(v)) {
      const int64_t pos = m.maps[c][static_cast<size_t>(v)];
      if (pos < 0) {
        std::string known;
        for (size_t i = 0; i < e.categories.size() && i < 12; ++i) known += (i ? ", " : "") + e.categories[i];
        throw DataError(raw.where(r) + ": error: column '" + e.name + "': the category '" + m.columns[c].categories[static_cast<size_t>(v)] +
                        "' was not in the training rows (known: " + known + (e.categories.size() > 12 ? ", ..." : "") + ")");
      }
      x[at + pos] = 1.0f;
    }
    at += static_cast<int64_t>(e.categories.size());
  }
  // `at` is now the encoded width (enc.width() would sum the columns again for every feature).
  if (!enc.offset.empty())
    for (int64_t j = 0; j < at; ++j) x[j] = (x[j] - enc.offset[static_cast<size_t>(j)]) / enc.scale[static_cast<size_t>(j)];
}

Tensor encode_features(const FeatureEncoding& enc, const Dataset& raw) {
  const ColumnMaps m = column_maps(enc, raw);
  Tensor out(raw.rows(), Shape{enc.width()});
  for (int64_t r = 0; r < raw.rows(); ++r) encode_row(enc, raw, m, r, out.row(r));
  return out;
}

void fit_normalization(const Dataset& raw, FeatureEncoding& enc) {
  if (enc.normalize == "none") return;
  const int64_t n = raw.rows(), width = enc.width();
  enc.offset.assign(static_cast<size_t>(width), 0.0f);
  enc.scale.assign(static_cast<size_t>(width), 1.0f);
  for (size_t c = 0; c < enc.columns.size(); ++c) {
    if (enc.columns[c].categorical) continue;
    const int64_t j = enc.first_feature(c);
    // A numeric feature is its raw value, or the column's fill where the cell was missing.
    const auto value = [&](int64_t r) -> double {
      const float v = raw.features.row(r)[c];
      return std::isnan(v) ? enc.columns[c].fill : v;
    };
    double lo = INFINITY, hi = -INFINITY, sum = 0;
    for (int64_t r = 0; r < n; ++r) {
      const double v = value(r);
      lo = std::min(lo, v), hi = std::max(hi, v), sum += v;
    }
    const double mean = sum / static_cast<double>(std::max<int64_t>(n, 1));
    double squares = 0;
    for (int64_t r = 0; r < n; ++r) squares += (value(r) - mean) * (value(r) - mean);
    const double sd = std::sqrt(squares / static_cast<double>(std::max<int64_t>(n, 1)));
    const bool standard = enc.normalize == "standard";
    const double offset = standard ? mean : lo, scale = standard ? sd : hi - lo;
    // A constant feature keeps scale 1, as scikit-learn's scalers do.
    enc.offset[static_cast<size_t>(j)] = static_cast<float>(offset);
    enc.scale[static_cast<size_t>(j)] = scale > 1e-12 * std::max(1.0, std::abs(offset)) ? static_cast<float>(scale) : 1.0f;
  }
}

}  // namespace

int64_t FeatureEncoding::width() const { return first_feature(columns.size()); }

int64_t FeatureEncoding::first_feature(size_t column) const {
  int64_t at = 0;
  for (size_t c = 0; c < column && c < columns.size(); ++c)
    at += columns[c].categorical ? static_cast<int64_t>(columns[c].categories.size()) : 1;
  return at;
}

FeatureEncoding fit_encoding(const Dataset& raw, const DataSpec& spec) {
  FeatureEncoding enc;
  enc.normalize = spec.normalize;
  enc.class_names = raw.class_names;
  fit_columns(raw, spec, enc);
  fit_normalization(raw, enc);
  if (spec.one_hot) {
    if (raw.targets.sample_shape().numel() == 1 && raw.label_classes <= 0) {
      for (int64_t r = 0; r < raw.rows(); ++r)
        if (const float v = raw.targets[static_cast<size_t>(r)]; v < 0 || v != std::floor(v))
          throw DataError(raw.where(r) + ": error: one_hot needs class labels that are names or non-negative integers, got " +
                          std::to_string(v));
    }
    enc.one_hot = true;
    enc.classes = raw.label_classes;
  }
  return enc;
}

namespace {

// The targets: one-hot rows for an encoding that asks for them, else the raw ones.
Tensor encode_targets(const FeatureEncoding& enc, const Dataset& raw) {
  const int64_t n = raw.rows();
  if (!enc.one_hot || raw.targets.sample_shape().numel() == 0) return raw.targets;
  Tensor targets(n, Shape{enc.classes});
  for (int64_t r = 0; r < n; ++r) {
    const float v = raw.targets[static_cast<size_t>(r)];
    if (v < 0 || v >= static_cast<float>(enc.classes) || v != std::floor(v))
      throw DataError(raw.where(r) + ": error: the label " + std::to_string(static_cast<long long>(v)) + " is outside the " +
                      std::to_string(enc.classes) + " classes of the training rows");
    targets.row(r)[static_cast<int64_t>(v)] = 1.0f;
  }
  return targets;
}

// Everything of an encoded dataset but its features.
Dataset encode_rest(const FeatureEncoding& enc, const Dataset& raw) {
  Dataset out;
  out.source = raw.source;
  out.class_names = enc.class_names;
  out.label_classes = enc.one_hot ? enc.classes : raw.label_classes;
  out.sample_weights = raw.sample_weights;
  out.lines = raw.lines;
  out.targets = encode_targets(enc, raw);
  return out;
}

}  // namespace

Dataset encode(const FeatureEncoding& enc, const Dataset& raw) {
  Dataset out = encode_rest(enc, raw);
  out.features = encode_features(enc, raw);
  return out;
}

Dataset encode(const FeatureEncoding& enc, Dataset&& raw) {
  // Only numeric columns: a categorical one, even with a single category (one feature), writes a
  // one-hot position rather than its value and leaves a missing cell 0, which in place would
  // keep the raw cell.
  const bool numeric = std::none_of(enc.columns.begin(), enc.columns.end(), [](const ColumnEncoding& c) { return c.categorical; });
  if (!numeric || raw.features.sample_shape().numel() != enc.width()) return encode(enc, static_cast<const Dataset&>(raw));
  Dataset out = encode_rest(enc, raw);
  const ColumnMaps m = column_maps(enc, raw);
  for (int64_t r = 0; r < raw.rows(); ++r) encode_row(enc, raw, m, r, raw.features.row(r));
  out.features = std::move(raw.features);
  return out;
}


std::vector<std::string> large_valued_columns(const Dataset& raw, const FeatureEncoding& enc) {
  std::vector<std::string> out;
  const int64_t n = raw.rows();
  for (size_t c = 0; c < enc.columns.size(); ++c) {
    if (enc.columns[c].categorical) continue;
    for (int64_t r = 0; r < n; ++r)
      if (std::abs(raw.features.row(r)[static_cast<int64_t>(c)]) > 100.0f) {
        out.push_back(enc.columns[c].name);
        break;
      }
  }
  return out;
}

std::string encoding_to_yaml(const FeatureEncoding& enc) {
  YAML::Emitter out;
  out << YAML::BeginMap;
  out << YAML::Key << "normalize" << YAML::Value << enc.normalize;
  out << YAML::Key << "columns" << YAML::Value << YAML::BeginSeq;
  for (size_t c = 0; c < enc.columns.size(); ++c) {
    const ColumnEncoding& e = enc.columns[c];
    out << YAML::Flow << YAML::BeginMap << YAML::Key << "name" << YAML::Value << e.name;
    if (e.categorical) {
      out << YAML::Key << "categories" << YAML::Value << YAML::Flow << e.categories;
    } else {
      out << YAML::Key << "fill" << YAML::Value << e.fill;
      if (!enc.offset.empty()) {
        const auto j = static_cast<size_t>(enc.first_feature(c));
        out << YAML::Key << "offset" << YAML::Value << enc.offset[j] << YAML::Key << "scale" << YAML::Value << enc.scale[j];
      }
    }
    out << YAML::EndMap;
  }
  out << YAML::EndSeq;
  out << YAML::Key << "classes" << YAML::Value << YAML::Flow << enc.class_names;
  out << YAML::Key << "one_hot" << YAML::Value << enc.one_hot << YAML::Key << "one_hot_classes" << YAML::Value << enc.classes;
  out << YAML::EndMap;
  return out.c_str();
}

FeatureEncoding encoding_from_yaml(const std::string& text, const std::string& source) {
  try {
    const YAML::Node root = YAML::Load(text);
    FeatureEncoding enc;
    enc.normalize = root["normalize"].as<std::string>();
    for (const auto& item : root["columns"]) {
      ColumnEncoding e;
      e.name = item["name"].as<std::string>();
      e.categorical = static_cast<bool>(item["categories"]);
      if (e.categorical) e.categories = item["categories"].as<std::vector<std::string>>();
      else e.fill = item["fill"].as<float>();
      enc.columns.push_back(std::move(e));
    }
    if (enc.normalize != "none") {
      enc.offset.assign(static_cast<size_t>(enc.width()), 0.0f);
      enc.scale.assign(static_cast<size_t>(enc.width()), 1.0f);
      size_t c = 0;
      for (const auto& item : root["columns"]) {
        if (!enc.columns[c].categorical) {
          const auto j = static_cast<size_t>(enc.first_feature(c));
          enc.offset[j] = item["offset"].as<float>();
          enc.scale[j] = item["scale"].as<float>();
        }
        ++c;
      }
    }
    enc.class_names = root["classes"].as<std::vector<std::string>>();
    enc.one_hot = root["one_hot"].as<bool>();
    enc.classes = root["one_hot_classes"].as<int64_t>();
    return enc;
  } catch (const YAML::Exception& e) {
    throw InputError(source + ": the stored data encoding is unreadable (" + e.msg + ")");
  }
}

}  // namespace anneal
