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
  // Row by row, every column's accumulator at once: a generated row is produced once, not once
  // per column.
  std::vector<std::set<std::string>> seen(columns.size());
  std::vector<double> sum(columns.size(), 0.0);
  std::vector<int64_t> count(columns.size(), 0);
  const bool mean = spec.missing == "mean";
  const bool read_rows = mean || std::any_of(columns.begin(), columns.end(), [](const RawColumn& c) { return c.categorical && !c.declared; });
  RowReader read(raw);
  for (int64_t r = 0; read_rows && r < n; ++r) {
    const float* row = read(r);
    for (int64_t c = 0; c < width; ++c) {
      const RawColumn& column = columns[static_cast<size_t>(c)];
      const float v = row[c];
      if (std::isnan(v)) continue;
      if (column.categorical && !column.declared) seen[static_cast<size_t>(c)].insert(column.categories[static_cast<size_t>(v)]);
      else if (!column.categorical && mean) sum[static_cast<size_t>(c)] += v, ++count[static_cast<size_t>(c)];
    }
  }
  for (int64_t c = 0; c < width; ++c) {
    const RawColumn& column = columns[static_cast<size_t>(c)];
    const auto i = static_cast<size_t>(c);
    ColumnEncoding e;
    e.name = column.name;
    e.categorical = column.categorical;
    if (column.categorical) e.categories = column.declared ? column.categories : std::vector<std::string>(seen[i].begin(), seen[i].end());
    else if (mean) e.fill = count[i] ? static_cast<float>(sum[i] / static_cast<double>(count[i])) : 0.0f;
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

// The normalisation of an encoded row of `width` features, in place.
void scale_row(const FeatureEncoding& enc, float* x, int64_t width) {
  if (!enc.offset.empty())
    for (int64_t j = 0; j < width; ++j) x[j] = (x[j] - enc.offset[static_cast<size_t>(j)]) / enc.scale[static_cast<size_t>(j)];
}

// Row r's encoded features (its raw values at `in`) into x, which may be `in` itself when no
// column is categorical: column c is read before feature c is written, and the scaling reads
// only x.
void encode_row(const FeatureEncoding& enc, const Dataset& raw, const ColumnMaps& m, int64_t r, const float* in, float* x) {
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
  scale_row(enc, x, at);
}

Tensor encode_features(const FeatureEncoding& enc, const Dataset& raw) {
  const ColumnMaps m = column_maps(enc, raw);
  Tensor out(raw.rows(), Shape{enc.width()});
  RowReader read(raw);
  for (int64_t r = 0; r < raw.rows(); ++r) encode_row(enc, raw, m, r, read(r), out.row(r));
  return out;
}

// Generated rows with numeric columns only, encoded as each row is generated: the raw row, then
// the fill of missing cells and the normalisation, in place.
class EncodedRows final : public RowGenerator {
 public:
  EncodedRows(std::shared_ptr<const RowGenerator> raw, FeatureEncoding enc) : raw_(std::move(raw)), enc_(std::move(enc)) {}
  void generate(int64_t index, float* out) const override {
    raw_->generate(index, out);
    const auto width = static_cast<int64_t>(enc_.columns.size());
    for (int64_t c = 0; c < width; ++c)
      if (std::isnan(out[c])) out[c] = enc_.columns[static_cast<size_t>(c)].fill;
    scale_row(enc_, out, width);
  }

 private:
  std::shared_ptr<const RowGenerator> raw_;
  FeatureEncoding enc_;
};

void fit_normalization(const Dataset& raw, FeatureEncoding& enc) {
  if (enc.normalize == "none") return;
  const int64_t n = raw.rows(), width = enc.width();
  enc.offset.assign(static_cast<size_t>(width), 0.0f);
  enc.scale.assign(static_cast<size_t>(width), 1.0f);
  std::vector<size_t> numeric;
  for (size_t c = 0; c < enc.columns.size(); ++c)
    if (!enc.columns[c].categorical) numeric.push_back(c);
  // A numeric feature is its raw value, or the column's fill where the cell was missing. Two
  // passes over the rows (the mean, then the squares about it), every column at once, each
  // column's sums in row order.
  const size_t k = numeric.size();
  std::vector<double> lo(k, INFINITY), hi(k, -INFINITY), sum(k, 0.0), squares(k, 0.0);
  RowReader read(raw);
  const auto value = [&](const float* row, size_t i) -> double {
    const float v = row[numeric[i]];
    return std::isnan(v) ? enc.columns[numeric[i]].fill : v;
  };
  for (int64_t r = 0; r < n; ++r) {
    const float* row = read(r);
    for (size_t i = 0; i < k; ++i) {
      const double v = value(row, i);
      lo[i] = std::min(lo[i], v), hi[i] = std::max(hi[i], v), sum[i] += v;
    }
  }
  const double rows = static_cast<double>(std::max<int64_t>(n, 1));
  std::vector<double> mean(k);
  for (size_t i = 0; i < k; ++i) mean[i] = sum[i] / rows;
  for (int64_t r = 0; r < n; ++r) {
    const float* row = read(r);
    for (size_t i = 0; i < k; ++i) {
      const double d = value(row, i) - mean[i];
      squares[i] += d * d;
    }
  }
  const bool standard = enc.normalize == "standard";
  for (size_t i = 0; i < k; ++i) {
    const double sd = std::sqrt(squares[i] / rows);
    const double offset = standard ? mean[i] : lo[i], scale = standard ? sd : hi[i] - lo[i];
    const auto j = static_cast<size_t>(enc.first_feature(numeric[i]));
    // A constant feature keeps scale 1, as scikit-learn's scalers do.
    enc.offset[j] = static_cast<float>(offset);
    enc.scale[j] = scale > 1e-12 * std::max(1.0, std::abs(offset)) ? static_cast<float>(scale) : 1.0f;
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

bool all_numeric(const FeatureEncoding& enc) {
  return std::none_of(enc.columns.begin(), enc.columns.end(), [](const ColumnEncoding& c) { return c.categorical; });
}

}  // namespace

Dataset encode(const FeatureEncoding& enc, const Dataset& raw) {
  Dataset out = encode_rest(enc, raw);
  if (raw.generator && all_numeric(enc) && raw.feature_width() == enc.width()) {
    // Generated rows stay generated, encoded as they are generated.
    column_maps(enc, raw);  // the columns' checks
    out.features = Tensor(0, Shape{enc.width()});
    out.generator = std::make_shared<EncodedRows>(raw.generator, enc);
    out.generated_rows = raw.generated_rows;
    return out;
  }
  out.features = encode_features(enc, raw);
  return out;
}

Dataset encode(const FeatureEncoding& enc, Dataset&& raw) {
  // Only numeric columns: a categorical one, even with a single category (one feature), writes a
  // one-hot position rather than its value and leaves a missing cell 0, which in place would
  // keep the raw cell.
  if (raw.generator || !all_numeric(enc) || raw.feature_width() != enc.width()) return encode(enc, static_cast<const Dataset&>(raw));
  Dataset out = encode_rest(enc, raw);
  const ColumnMaps m = column_maps(enc, raw);
  for (int64_t r = 0; r < raw.rows(); ++r) encode_row(enc, raw, m, r, raw.features.row(r), raw.features.row(r));
  out.features = std::move(raw.features);
  return out;
}


std::vector<std::string> large_valued_columns(const Dataset& raw, const FeatureEncoding& enc) {
  std::vector<bool> large(enc.columns.size(), false);
  RowReader read(raw);
  for (int64_t r = 0; r < raw.rows(); ++r) {
    const float* row = read(r);
    for (size_t c = 0; c < enc.columns.size(); ++c)
      if (!enc.columns[c].categorical && std::abs(row[c]) > 100.0f) large[c] = true;
  }
  std::vector<std::string> out;
  for (size_t c = 0; c < enc.columns.size(); ++c)
    if (large[c]) out.push_back(enc.columns[c].name);
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
