#pragma once
// Tabular data. Readers (CSV, gzip'd CSV, ARFF) produce *raw* rows: numeric cells as numbers, a
// categorical cell as the index of its category in the column's dictionary, a missing cell as NaN,
// and one target column (a class index, or the number itself for regression). The fitted
// FeatureEncoding (encoding.hpp) turns raw rows into what the model reads (one-hot categories,
// filled missing values, normalisation, one-hot targets); it is fitted on training rows only.

#include <cstdint>
#include <string>
#include <vector>

#include "anneal/spec.hpp"
#include "anneal/tensor.hpp"

namespace anneal {

// One raw feature column.
struct RawColumn {
  std::string name;                     // header or ARFF name; "column N" when the file has none
  bool categorical = false;
  std::vector<std::string> categories;  // categorical: the dictionary its cells index
  bool declared = false;  // the file declares the categories (ARFF nominal): all of them are kept
};

struct Dataset {
  Tensor features;  // [rows, features]
  Tensor targets;   // [rows, target columns]: raw data has 1 (or 0: no labels)
  std::vector<std::string> class_names;  // string labels in encoded order (empty: numeric labels)
  int64_t label_classes = 0;  // classes the labels name (0: not class labels)
  std::vector<RawColumn> columns;  // raw data: one per feature column (empty: all numeric)
  std::vector<float> sample_weights;  // empty: every row weighs 1
  std::vector<int> lines;   // the source line of each row (0: unknown), for error messages
  std::string source;

  int64_t rows() const { return features.batch(); }
  // "file:line" of a row, or "row N" when the line is unknown.
  std::string where(int64_t row) const;
};

// Reads spec.path as CSV (gzip'd when it ends in .gz) or ARFF (.arff suffix or format: arff) into
// raw rows. String labels are encoded in sorted order (scikit-learn's LabelEncoder), a nominal
// ARFF class in its declared order; numeric labels are kept as numbers. Without a label column
// every column is a feature and the targets are empty. Malformed input is a DataError naming
// file, line and column.
Dataset read_data(const DataSpec& spec);
// How many columns the file has (label and weight columns included), from its header and first
// data row: the reader's own rules (quotes, gzip, skip_rows, ARFF attributes), without reading
// the rest. 0 for a file with no columns.
int64_t column_count(const DataSpec& spec);
Dataset read_csv(const DataSpec& spec);
Dataset read_arff(const DataSpec& spec);

// spec.synthetic: Gaussian features of the given shape, class indices from a random linear
// teacher; the same seed gives the same rows.
Dataset make_synthetic(const DataSpec& spec);

// Rows `rows` of `data` in that order (every per-row field follows).
Dataset subset(const Dataset& data, const std::vector<int64_t>& rows);
Dataset take_rows(const Dataset& data, int64_t begin, int64_t end);

// Keras validation_split: the LAST fraction of rows (before any shuffling) is validation.
// split_at = floor(rows * (1 - fraction)).
struct SplitData {
  Dataset train;
  Dataset validation;
};
SplitData split_validation(const Dataset& data, double fraction);

// Re-encodes the string labels of `data` (a separate validation file) into `class_names` (the
// training file's order). A label the training file does not have is a DataError naming it.
void align_labels(Dataset& data, const std::vector<std::string>& class_names);

}  // namespace anneal
