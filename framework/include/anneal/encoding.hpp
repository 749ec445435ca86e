#pragma once
// From raw rows to what the model reads, fitted on the training rows only and stored with the
// model (checkpoints), so evaluate, predict and export apply exactly what training used:
//  - a categorical column becomes one one-hot feature per category (the categories of the
//    training rows, sorted; an ARFF nominal attribute keeps all its declared values in order);
//  - a missing numeric cell becomes the column's training mean (missing: mean) or 0 (zero); a
//    missing category becomes an all-zero one-hot row;
//  - data.normalize scales each numeric feature: standard (x - mean) / std, population std as
//    scikit-learn's StandardScaler, or minmax (x - min) / (max - min); a constant feature keeps
//    scale 1. One-hot features are not scaled;
//  - one_hot: true expands class indices into one-hot target rows.

#include <cstdint>
#include <string>
#include <vector>

#include "anneal/data.hpp"
#include "anneal/spec.hpp"

namespace anneal {

struct ColumnEncoding {
  std::string name;
  bool categorical = false;
  std::vector<std::string> categories;  // categorical: one feature each, in this order
  float fill = 0;                       // numeric: what a missing cell becomes
};

struct FeatureEncoding {
  std::vector<ColumnEncoding> columns;  // one per raw feature column
  std::string normalize = "none";
  std::vector<float> offset, scale;  // per encoded feature: x' = (x - offset) / scale
  std::vector<std::string> class_names;  // string labels in encoded order
  bool one_hot = false;
  int64_t classes = 0;  // one_hot: the target width

  bool empty() const { return columns.empty(); }
  int64_t width() const;  // encoded features per row
  // The encoded features a raw column occupies: [first, first + count).
  int64_t first_feature(size_t column) const;
};

FeatureEncoding fit_encoding(const Dataset& raw_train, const DataSpec& spec);
// Encoded features and targets of raw rows (labels optional). A category the encoding does not
// know is a DataError naming the row, the column and the category.
Dataset encode(const FeatureEncoding& encoding, const Dataset& raw);
// The same, reusing the raw rows' memory where the encoding keeps one value per column (no
// categorical column): the rows are encoded in place, so the data is held once, not twice.
Dataset encode(const FeatureEncoding& encoding, Dataset&& raw);

// Raw numeric feature columns whose training values exceed 100 in absolute value, for the
// "normalize: standard" hint (only meaningful with normalize: none).
std::vector<std::string> large_valued_columns(const Dataset& raw_train, const FeatureEncoding& encoding);

// A readable YAML form, stored in checkpoints and printed by `anneal check`.
std::string encoding_to_yaml(const FeatureEncoding& encoding);
// Throws InputError naming `source` when the text is not an encoding.
FeatureEncoding encoding_from_yaml(const std::string& text, const std::string& source);

}  // namespace anneal
